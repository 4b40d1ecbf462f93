//! Tenable Security Center routes under `/rest`: system, token, currentUser, user, credential.
//! Every answer is SC's envelope; ids are strings (pyTenable's cassettes under sc/).

use serde_json::{Map, Value, json};

use super::http::{Request, Response};
use super::state::State;
use super::{ApiRole, CredentialKind, parse_key_header, policy_problem};

/// SC's code for a refused parameter or access (pyTenable's analysis.py docstring and issue
/// #917 show it for both). No public source gives the codes for a wrong `currentPassword`, a
/// policy or history breach, or missing rights on `PATCH /rest/user`, so all of them use it,
/// each with its own message (research-sc-errors.md).
const REFUSED: i64 = 146;

/// An envelope answer.
fn envelope(status: u16, response: Value, code: i64, message: &str) -> Response {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut r = Response::json(
        status,
        &json!({"type": "regular", "response": response, "error_code": code, "error_msg": message, "warnings": [], "timestamp": timestamp}),
    );
    r.headers.push(("SecurityCenter".into(), "6.4.0".into()));
    r
}

fn ok(response: Value) -> Response {
    envelope(200, response, 0, "")
}

/// An SC error: `status` (usually 403) with a non-zero `error_code` (test_policies_delete.yaml).
pub fn error(status: u16, code: i64, message: &str) -> Response {
    envelope(status, Value::String(String::new()), code, message)
}

/// An authentication failure, as recorded: JSON sent as `text/html`.
fn auth_error(code: i64, message: &str) -> Response {
    let mut r = error(403, code, message);
    r.headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    r.headers
        .push(("Content-Type".into(), "text/html; charset=UTF-8".into()));
    r
}

/// Handles one SC request.
pub fn handle(state: &mut State, req: &Request) -> Response {
    let segments: Vec<&str> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .collect();
    // Wrong API keys: 403 with error_code 0 and no message, on any route, /rest/system
    // included (sc_login_5_20_0.yaml).
    let api_key = req.header("x-apikey");
    let keys_ok = api_key.map(parse_key_header)
        == Some((
            Some(state.access_key.as_str()),
            Some(state.secret_key.as_str()),
        ));
    if api_key.is_some() && !keys_ok {
        return auth_error(0, "");
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["system"]) => {
            return ok(
                json!({"version": "6.4.0", "buildID": "202405080000", "PasswordComplexity": "true", "sessionTimeout": "60"}),
            );
        }
        ("POST", ["token"]) => return login(state, req),
        _ => {}
    }
    let token_user = req
        .header("x-securitycenter")
        .and_then(|t| state.sc_tokens.get(t.trim()).copied());
    let Some(caller) = token_user.or(keys_ok.then_some(state.sc_api_user_id)) else {
        // No keys and no valid session token (test_system_current_locale.yaml).
        return auth_error(12, "This request contains an invalid token.");
    };
    // The API keys' user has the configured role; a user logged in with a password may only
    // change its own password.
    let role = if caller == state.sc_api_user_id {
        state.api_role
    } else {
        ApiRole::Basic
    };
    match (req.method.as_str(), segments.as_slice()) {
        ("DELETE", ["token"]) => {
            if let Some(t) = req.header("x-securitycenter") {
                state.sc_tokens.remove(t.trim());
            }
            ok(Value::String(String::new()))
        }
        ("GET", ["currentUser"]) => match state.sc_users.iter().find(|u| u.id == caller) {
            Some(u) => ok(user_value(u.id, &u.username, role, &req.query_pairs())),
            None => auth_error(12, "This request contains an invalid token."),
        },
        ("GET", ["user"]) => {
            let q = req.query_pairs();
            let api_user = state.sc_api_user_id;
            ok(Value::Array(
                state
                    .sc_users
                    .iter()
                    // An Auditor sees only itself.
                    .filter(|u| role != ApiRole::Basic || u.id == caller)
                    .map(|u| {
                        user_value(
                            u.id,
                            &u.username,
                            role_of(u.id, api_user, state.api_role),
                            &q,
                        )
                    })
                    .collect(),
            ))
        }
        ("GET", ["user", id]) => match state.sc_users.iter().find(|u| u.id.to_string() == *id) {
            Some(u) => ok(user_value(
                u.id,
                &u.username,
                role_of(u.id, state.sc_api_user_id, state.api_role),
                &req.query_pairs(),
            )),
            None => error(403, 147, &format!("User #{id} does not exist.")),
        },
        ("PATCH", ["user", id]) => change_password(state, caller, role, id, req),
        ("GET", ["credential"]) => {
            let list: Vec<Value> = state.sc_credentials.iter().map(|c| json!({"id": c.id.to_string(), "name": c.name, "type": kind_id(c.kind), "description": ""})).collect();
            let manageable = if role == ApiRole::Basic {
                Vec::new()
            } else {
                list.clone()
            };
            ok(json!({"usable": list, "manageable": manageable}))
        }
        ("GET", ["credential", id]) => match state
            .sc_credentials
            .iter()
            .find(|c| c.id.to_string() == *id)
        {
            Some(c) => ok(credential_value(c)),
            None => error(403, 147, &format!("Credential #{id} does not exist.")),
        },
        ("PATCH", ["credential", id]) if role == ApiRole::Basic => error(
            403,
            REFUSED,
            &format!("You do not have permission to edit Credential #{id}."),
        ),
        ("PATCH", ["credential", id]) => edit_credential(state, id, req),
        _ => error(404, 1, "Resource not found."),
    }
}

/// The role shown for a user: the configured one for the API keys' user, else Security Manager.
fn role_of(id: u64, api_user: u64, api_role: ApiRole) -> ApiRole {
    if id == api_user {
        api_role
    } else {
        ApiRole::Admin
    }
}

fn user_value(id: u64, username: &str, role: ApiRole, query: &[(String, String)]) -> Value {
    let (role_id, role_name) = role.sc_role();
    let full = json!({
        "id": id.to_string(), "uuid": super::state::uuid_for(0x5c05, id), "username": username, "firstname": "", "lastname": "",
        "status": "0", "locked": "false", "failedLogins": "0", "mustChangePassword": "false", "password": "SET", "authType": "tns",
        "role": {"id": role_id, "name": role_name, "description": ""}, "group": {"id": "0", "name": "Full Access", "description": ""},
    });
    let Some((_, fields)) = query.iter().find(|(k, _)| k == "fields") else {
        return full;
    };
    let mut out = Map::new();
    for field in fields.split(',').map(str::trim).chain(["id"]) {
        if let Some(v) = full.get(field) {
            out.insert(field.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

fn body(req: &Request) -> Option<Map<String, Value>> {
    serde_json::from_slice::<Value>(&req.body)
        .ok()?
        .as_object()
        .cloned()
}

fn login(state: &mut State, req: &Request) -> Response {
    let b = body(req).unwrap_or_default();
    let (user, password) = (
        b.get("username").and_then(Value::as_str),
        b.get("password").and_then(Value::as_str),
    );
    match state
        .sc_users
        .iter()
        .find(|u| Some(u.username.as_str()) == user && Some(u.password.as_str()) == password)
    {
        Some(u) => {
            let token = fastrand::u32(1_000_000..u32::MAX);
            let id = u.id;
            state.sc_tokens.insert(token.to_string(), id);
            let mut r =
                ok(json!({"token": token, "failedLogins": "0", "unassociatedCert": "false"}));
            r.headers.push((
                "Set-Cookie".into(),
                format!(
                    "TNS_SESSIONID={:032x}; path=/; HttpOnly",
                    fastrand::u128(..)
                ),
            ));
            r
        }
        None => error(403, 74, "Invalid login credentials."),
    }
}

/// `PATCH /rest/user/{id}`. With `password`: a user changing its own password must also give
/// its `currentPassword` (pyTenable `users.edit`: "requirement when updating password for
/// current user"); another user's password needs the right to manage that user and no
/// `currentPassword`, which is then not checked. `createDefaultObjects` ("true"/"false"),
/// which pyTenable sends with every edit since 2024 (Keeper's SC sample included), is
/// accepted and has no effect on an existing user.
fn change_password(
    state: &mut State,
    caller: u64,
    role: ApiRole,
    id: &str,
    req: &Request,
) -> Response {
    let Some(b) = body(req) else {
        return error(403, 144, "Invalid JSON.");
    };
    let Some(index) = state.sc_users.iter().position(|u| u.id.to_string() == id) else {
        return error(403, 147, &format!("User #{id} does not exist."));
    };
    let user = &state.sc_users[index];
    let own = user.id == caller;
    if !own && role != ApiRole::Admin {
        return error(
            403,
            REFUSED,
            &format!("You do not have permission to edit User #{id}."),
        );
    }
    if let Some(new) = b.get("password").and_then(Value::as_str) {
        let quote = |text: &str, what: &str, value: &str| {
            if state.echo_submitted {
                format!("{text} ({what} '{value}')")
            } else {
                text.to_owned()
            }
        };
        if own {
            match b.get("currentPassword").and_then(Value::as_str) {
                None => {
                    return error(
                        403,
                        REFUSED,
                        "The current password is required to change your own password.",
                    );
                }
                Some(given) if given != user.password => {
                    return error(
                        403,
                        REFUSED,
                        &quote(
                            "The current password is incorrect.",
                            "submitted current password",
                            given,
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        if let Some(problem) = policy_problem(new) {
            return error(403, REFUSED, &quote(problem, "submitted password", new));
        }
        if new == user.password {
            return error(
                403,
                REFUSED,
                &quote(
                    "The new password must differ from the current password.",
                    "submitted password",
                    new,
                ),
            );
        }
        state.sc_users[index].password = new.to_owned();
        state.count_applied("PATCH /rest/user/{id}");
    }
    let u = &state.sc_users[index];
    ok(user_value(
        u.id,
        &u.username,
        role_of(u.id, state.sc_api_user_id, state.api_role),
        &[],
    ))
}

fn kind_id(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Windows => "windows",
        CredentialKind::Ssh => "ssh",
        CredentialKind::Database => "database",
        CredentialKind::SnmpV1 => "snmp",
    }
}

fn credential_value(c: &super::state::Credential) -> Value {
    let fields: Map<String, Value> = c
        .settings
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if matches!(k.as_str(), "password" | "communityName") {
                    Value::String("SET".into())
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    json!({"id": c.id.to_string(), "type": kind_id(c.kind), "name": c.name, "description": "", "typeFields": fields, "canUse": "true", "canManage": "true"})
}

fn edit_credential(state: &mut State, id: &str, req: &Request) -> Response {
    let Some(b) = body(req) else {
        return error(403, 144, "Invalid JSON.");
    };
    let Some(c) = state
        .sc_credentials
        .iter_mut()
        .find(|c| c.id.to_string() == id)
    else {
        return error(403, 147, &format!("Credential #{id} does not exist."));
    };
    // A field the credential's type does not have (a password on SNMP) is refused whole, so
    // that it is never taken for a change; SC's real answer is not recorded.
    if let Some(bad) = b.keys().find(|k| {
        !matches!(k.as_str(), "name" | "description" | "type" | "tags")
            && !c.settings.contains_key(k.as_str())
    }) {
        return error(
            403,
            REFUSED,
            &format!(
                "The attribute '{bad}' is not valid for a credential of type '{}'.",
                kind_id(c.kind)
            ),
        );
    }
    let mut changed = false;
    for (k, v) in &b {
        match k.as_str() {
            "name" => c.name = v.as_str().unwrap_or_default().to_owned(),
            "description" | "type" | "tags" => {}
            key if v.as_str() != Some("SET") => {
                changed |=
                    matches!(key, "password" | "communityName") && c.settings.get(key) != Some(v);
                c.settings.insert(key.to_owned(), v.clone());
            }
            _ => {}
        }
    }
    let value = credential_value(c);
    if changed {
        state.count_applied("PATCH /rest/credential/{id}");
    }
    ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{CredentialSeed, EmulatorConfig};

    fn state(role: ApiRole) -> State {
        State::new(&EmulatorConfig {
            access_key: "a".into(),
            secret_key: "s".into(),
            sc_users: vec![
                ("bob".into(), "Old-Passw0rd!xx".into()),
                ("secmanager".into(), "Api-Passw0rd!xx".into()),
            ],
            sc_credentials: vec![
                "ssh:Linux root:root:Old-Passw0rd!xx"
                    .parse::<CredentialSeed>()
                    .unwrap(),
                "snmp:Switches:x:public".parse().unwrap(),
            ],
            api_role: role,
            ..EmulatorConfig::default()
        })
    }

    fn send(
        state: &mut State,
        keys: Option<&str>,
        method: &str,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let request = Request {
            method: method.into(),
            path: path.into(),
            query: None,
            headers: keys
                .map(|k| vec![("X-APIKey".into(), k.into())])
                .unwrap_or_default(),
            body: body.to_string().into_bytes(),
        };
        let response = handle(state, &request);
        (
            response.status,
            serde_json::from_slice(&response.body).unwrap_or(Value::Null),
        )
    }

    const KEYS: Option<&str> = Some("accessKey=a; secretKey=s");

    #[test]
    fn refused_keys_and_missing_tokens_answer_as_recorded() {
        let mut s = state(ApiRole::Admin);
        let (status, body) = send(
            &mut s,
            Some("accessKey=a; secretKey=x"),
            "GET",
            "/rest/system",
            Value::Null,
        );
        assert_eq!(
            (status, &body["error_code"], &body["error_msg"]),
            (403, &json!(0), &json!(""))
        );
        let (status, body) = send(&mut s, None, "GET", "/rest/currentUser", Value::Null);
        assert_eq!(
            (status, &body["error_code"], &body["error_msg"]),
            (
                403,
                &json!(12),
                &json!("This request contains an invalid token.")
            )
        );
    }

    #[test]
    fn current_password_is_required_for_the_own_password_only() {
        let mut s = state(ApiRole::Admin);
        // bob is id 2, secmanager (the API user) id 3.
        let own = |extra: Value| {
            let mut b = json!({"password": "N3w-Passw0rd!yy", "createDefaultObjects": "false"});
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            b
        };
        let (status, body) = send(&mut s, KEYS, "PATCH", "/rest/user/3", own(json!({})));
        assert_eq!(
            (status, &body["error_code"]),
            (403, &json!(REFUSED)),
            "{body}"
        );
        let (status, _) = send(
            &mut s,
            KEYS,
            "PATCH",
            "/rest/user/3",
            own(json!({"currentPassword": "wrong"})),
        );
        assert_eq!(status, 403);
        assert!(s.applied.is_empty());
        let (status, body) = send(
            &mut s,
            KEYS,
            "PATCH",
            "/rest/user/3",
            own(json!({"currentPassword": "Api-Passw0rd!xx"})),
        );
        assert_eq!(status, 200, "{body}");
        // Another user: no currentPassword needed; createDefaultObjects is accepted.
        let (status, body) = send(&mut s, KEYS, "PATCH", "/rest/user/2", own(json!({})));
        assert_eq!(status, 200, "{body}");
        assert_eq!(s.applied["PATCH /rest/user/{id}"], 2);
        assert_eq!(s.sc_users[0].password, "N3w-Passw0rd!yy");
    }

    #[test]
    fn limited_roles_may_change_only_their_own_password() {
        let mut s = state(ApiRole::Standard);
        let (status, body) = send(
            &mut s,
            KEYS,
            "PATCH",
            "/rest/user/2",
            json!({"password": "N3w-Passw0rd!yy"}),
        );
        assert_eq!(
            (status, &body["error_code"]),
            (403, &json!(REFUSED)),
            "{body}"
        );
        assert!(s.applied.is_empty());
        let (_, me) = send(&mut s, KEYS, "GET", "/rest/currentUser", Value::Null);
        assert_eq!(me["response"]["role"]["name"], "Security Analyst");
        s.set_api_role(ApiRole::Basic);
        let (_, users) = send(&mut s, KEYS, "GET", "/rest/user", Value::Null);
        assert_eq!(users["response"].as_array().unwrap().len(), 1, "{users}");
        let (status, _) = send(
            &mut s,
            KEYS,
            "PATCH",
            "/rest/credential/1000001",
            json!({"password": "N3w-Passw0rd!yy"}),
        );
        assert_eq!(status, 403);
    }

    #[test]
    fn a_password_on_an_snmp_credential_is_refused() {
        let mut s = state(ApiRole::Admin);
        let (status, body) = send(
            &mut s,
            KEYS,
            "PATCH",
            "/rest/credential/1000002",
            json!({"password": "N3w-Passw0rd!yy"}),
        );
        assert_eq!(
            (status, &body["error_code"]),
            (403, &json!(REFUSED)),
            "{body}"
        );
        assert!(s.applied.is_empty());
        let (status, _) = send(
            &mut s,
            KEYS,
            "PATCH",
            "/rest/credential/1000001",
            json!({"password": "N3w-Passw0rd!yy"}),
        );
        assert_eq!(status, 200);
        assert_eq!(s.applied["PATCH /rest/credential/{id}"], 1);
    }

    #[test]
    fn echo_quotes_the_rejected_password_only_when_asked() {
        let mut s = state(ApiRole::Admin);
        let weak = json!({"password": "weak-pass"});
        let (_, body) = send(&mut s, KEYS, "PATCH", "/rest/user/2", weak.clone());
        assert!(!body.to_string().contains("weak-pass"));
        s.echo_submitted = true;
        let (_, body) = send(&mut s, KEYS, "PATCH", "/rest/user/2", weak);
        assert!(
            body["error_msg"].as_str().unwrap().contains("'weak-pass'"),
            "{body}"
        );
    }
}
