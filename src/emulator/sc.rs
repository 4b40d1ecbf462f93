//! Tenable Security Center routes under `/rest`: system, token, currentUser, user, credential.
//! Every answer is SC's envelope; ids are strings (pyTenable's cassettes under sc/).

use serde_json::{Map, Value, json};

use super::http::{Request, Response};
use super::state::State;
use super::{CredentialKind, parse_key_header, policy_problem};

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

/// Handles one SC request.
pub fn handle(state: &mut State, req: &Request) -> Response {
    let segments: Vec<&str> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .collect();
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
    let keys_ok = req.header("x-apikey").map(parse_key_header)
        == Some((
            Some(state.access_key.as_str()),
            Some(state.secret_key.as_str()),
        ));
    let Some(caller) = token_user.or(keys_ok.then_some(state.sc_api_user_id)) else {
        // SC's API-key guide documents 400 for invalid keys on some versions and recorded
        // traffic shows 403 + error_code for bad tokens; we answer 403 with a code, which the
        // client must treat as "keys refused" either way.
        return error(403, 74, "Invalid API key or session token.");
    };
    match (req.method.as_str(), segments.as_slice()) {
        ("DELETE", ["token"]) => {
            if let Some(t) = req.header("x-securitycenter") {
                state.sc_tokens.remove(t.trim());
            }
            ok(Value::String(String::new()))
        }
        ("GET", ["currentUser"]) => match state.sc_users.iter().find(|u| u.id == caller) {
            Some(u) => ok(user_value(u.id, &u.username, &req.query_pairs())),
            None => error(403, 74, "Invalid session."),
        },
        ("GET", ["user"]) => {
            let q = req.query_pairs();
            ok(Value::Array(
                state
                    .sc_users
                    .iter()
                    .map(|u| user_value(u.id, &u.username, &q))
                    .collect(),
            ))
        }
        ("GET", ["user", id]) => match state.sc_users.iter().find(|u| u.id.to_string() == *id) {
            Some(u) => ok(user_value(u.id, &u.username, &req.query_pairs())),
            None => error(403, 147, &format!("User #{id} does not exist.")),
        },
        ("PATCH", ["user", id]) => change_password(state, caller, id, req),
        ("GET", ["credential"]) => {
            let list: Vec<Value> = state.sc_credentials.iter().map(|c| json!({"id": c.id.to_string(), "name": c.name, "type": kind_id(c.kind), "description": ""})).collect();
            ok(json!({"usable": list, "manageable": list}))
        }
        ("GET", ["credential", id]) => match state
            .sc_credentials
            .iter()
            .find(|c| c.id.to_string() == *id)
        {
            Some(c) => ok(credential_value(c)),
            None => error(403, 147, &format!("Credential #{id} does not exist.")),
        },
        ("PATCH", ["credential", id]) => edit_credential(state, id, req),
        _ => error(404, 1, "Resource not found."),
    }
}

fn user_value(id: u64, username: &str, query: &[(String, String)]) -> Value {
    let full = json!({
        "id": id.to_string(), "uuid": super::state::uuid_for(0x5c05, id), "username": username, "firstname": "", "lastname": "",
        "status": "0", "locked": "false", "failedLogins": "0", "mustChangePassword": "false", "password": "SET", "authType": "tns",
        "role": {"id": "2", "name": "Security Manager", "description": ""}, "group": {"id": "0", "name": "Full Access", "description": ""},
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

fn change_password(state: &mut State, caller: u64, id: &str, req: &Request) -> Response {
    let Some(b) = body(req) else {
        return error(403, 144, "Invalid JSON.");
    };
    let Some(index) = state.sc_users.iter().position(|u| u.id.to_string() == id) else {
        return error(403, 147, &format!("User #{id} does not exist."));
    };
    if let Some(new) = b.get("password").and_then(Value::as_str) {
        let user = &state.sc_users[index];
        // pyTenable PR #670: a user changing its own password must give currentPassword.
        if user.id == caller
            && b.get("currentPassword").and_then(Value::as_str) != Some(user.password.as_str())
        {
            return error(403, 28, "The current password is incorrect.");
        }
        if let Some(problem) = policy_problem(new) {
            return error(403, 145, problem);
        }
        if new == user.password {
            return error(
                403,
                146,
                "The new password must differ from the current password.",
            );
        }
        state.sc_users[index].password = new.to_owned();
        state.count_applied("PATCH /rest/user/{id}");
    }
    let u = &state.sc_users[index];
    ok(user_value(u.id, &u.username, &[]))
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
    let mut changed = false;
    for (k, v) in &b {
        match k.as_str() {
            "name" => c.name = v.as_str().unwrap_or_default().to_owned(),
            "description" => {}
            key if c.settings.contains_key(key) && v.as_str() != Some("SET") => {
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
