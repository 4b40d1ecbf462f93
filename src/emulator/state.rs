//! The emulated tenant: users, credentials, sessions, counters and armed faults.
//!
//! Synthetic users (`seed_users`) are not stored one by one: they are derived from their
//! index, and only a changed password is remembered, so 200 000 of them cost almost nothing.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::faults::Faults;
use super::{ApiRole, CredentialKind, CredentialSeed, EmulatorConfig};

/// Id of the first configured TVM user; the API owner is 1.
const FIRST_VM_ID: u64 = 2;
/// Id of the first synthetic TVM user.
const FIRST_SEEDED_ID: u64 = 100_000;

/// A TVM user.
pub struct VmUser {
    pub id: u64,
    pub username: String,
    pub password: String,
    pub permissions: u32,
    pub failures: u32,
}

/// An SC user.
pub struct ScUser {
    pub id: u64,
    pub username: String,
    pub password: String,
}

/// A credential on either platform; `settings` holds the real secrets.
pub struct Credential {
    pub id: u64,
    pub uuid: String,
    pub name: String,
    pub kind: CredentialKind,
    pub settings: Map<String, Value>,
}

/// Everything the emulator knows.
pub struct State {
    pub access_key: String,
    pub secret_key: String,
    pub vm_users: Vec<VmUser>,
    seeded: usize,
    seeded_changes: HashMap<u64, String>,
    users_json: Option<Vec<u8>>,
    /// The `GET /users` body gzipped, kept with `users_json` and dropped with it.
    users_gz: Option<Vec<u8>>,
    /// TVM users' access other than the defaults (enabled, password sign-in only), by id:
    /// (enabled, password, saml, api).
    pub vm_access: HashMap<u64, (bool, bool, bool, bool)>,
    pub sc_users: Vec<ScUser>,
    pub sc_api_user_id: u64,
    pub vm_credentials: Vec<Credential>,
    /// Where each TVM credential's UUID is in `vm_credentials` (fixed after start), so a
    /// tenant of 50 000 credentials answers a lookup without a scan.
    pub vm_credential_index: HashMap<String, usize>,
    pub sc_credentials: Vec<Credential>,
    pub vm_sessions: HashMap<String, String>,
    pub sc_tokens: HashMap<String, u64>,
    pub requests: BTreeMap<String, u64>,
    pub applied: BTreeMap<String, u64>,
    pub faults: Faults,
    /// The rights of the API keys' user.
    pub api_role: ApiRole,
    /// Quote submitted values in error messages.
    pub echo_submitted: bool,
    container_uuid: String,
}

pub fn uuid_for(kind: u32, id: u64) -> String {
    format!(
        "{kind:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (id >> 32) & 0xffff,
        (id >> 20) & 0xfff,
        (id >> 8) & 0xfff,
        id
    )
}

impl State {
    /// The TVM credential with `uuid`.
    pub fn vm_credential_mut(&mut self, uuid: &str) -> Option<&mut Credential> {
        let i = *self.vm_credential_index.get(uuid)?;
        self.vm_credentials.get_mut(i)
    }

    pub fn new(config: &EmulatorConfig) -> State {
        let mut vm_users = vec![VmUser {
            id: 1,
            username: "api-admin@example.com".into(),
            password: format!("Api-{:x}!A1", fastrand::u64(..)),
            permissions: config.api_role.vm_permissions(),
            failures: 0,
        }];
        vm_users.extend(config.users.iter().enumerate().map(|(i, (u, p))| VmUser {
            id: FIRST_VM_ID + i as u64,
            username: u.clone(),
            password: p.clone(),
            permissions: 32,
            failures: 0,
        }));
        let mut sc_users: Vec<ScUser> = config
            .sc_users
            .iter()
            .enumerate()
            .map(|(i, (u, p))| ScUser {
                id: 2 + i as u64,
                username: u.clone(),
                password: p.clone(),
            })
            .collect();
        let sc_api_user_id = match sc_users.iter().find(|u| u.username == config.sc_api_user) {
            Some(u) => u.id,
            None => {
                sc_users.insert(
                    0,
                    ScUser {
                        id: 1,
                        username: config.sc_api_user.clone(),
                        password: format!("Api-{:x}!A1", fastrand::u64(..)),
                    },
                );
                1
            }
        };
        let vm_credentials: Vec<Credential> = config
            .credentials
            .iter()
            .cloned()
            .chain((0..config.seed_credentials).map(CredentialSeed::seeded))
            .enumerate()
            .map(|(i, s)| vm_credential(1000 + i as u64, &s))
            .collect();
        let vm_credential_index = vm_credentials
            .iter()
            .enumerate()
            .map(|(i, c)| (c.uuid.clone(), i))
            .collect();
        State {
            access_key: config.access_key.clone(),
            secret_key: config.secret_key.clone(),
            vm_users,
            seeded: config.seed_users,
            seeded_changes: HashMap::new(),
            users_json: None,
            users_gz: None,
            vm_access: HashMap::new(),
            sc_users,
            sc_api_user_id,
            vm_credentials,
            vm_credential_index,
            sc_credentials: config
                .sc_credentials
                .iter()
                .enumerate()
                .map(|(i, s)| sc_credential(1_000_001 + i as u64, s))
                .collect(),
            vm_sessions: HashMap::new(),
            sc_tokens: HashMap::new(),
            requests: BTreeMap::new(),
            applied: BTreeMap::new(),
            faults: {
                let mut f = Faults::default();
                config.faults.iter().cloned().for_each(|r| f.arm(r));
                f
            },
            api_role: config.api_role,
            echo_submitted: config.echo_submitted,
            container_uuid: uuid_for(0xc0, 1),
        }
    }

    /// Gives the API keys' user (TVM id 1, and the SC API user) another role.
    pub fn set_api_role(&mut self, role: ApiRole) {
        self.api_role = role;
        if let Some(owner) = self.vm_users.iter_mut().find(|u| u.id == 1) {
            owner.permissions = role.vm_permissions();
        }
        self.invalidate_users();
    }

    /// The container's uuid, as in every user object.
    pub fn container_uuid(&self) -> &str {
        &self.container_uuid
    }

    /// `text`, or `text (submitted)` when echoing is on; `submitted` quotes the value, e.g.
    /// `password 'X'`.
    pub fn echo(&self, text: &str, submitted: &str) -> String {
        if self.echo_submitted {
            format!("{text} ({submitted})")
        } else {
            text.to_owned()
        }
    }

    pub fn stats(&self) -> Value {
        json!({"requests": self.requests, "applied": self.applied})
    }

    pub fn count_applied(&mut self, route: &str) {
        *self.applied.entry(route.to_owned()).or_default() += 1;
    }

    fn seeded_name(index: usize) -> String {
        format!("user{index}@example.com")
    }

    fn seeded_password(id: u64) -> String {
        format!("Seeded-Passw0rd!{id}")
    }

    /// A TVM user's current password, configured or synthetic.
    pub fn vm_password(&self, username: &str) -> Option<String> {
        if let Some(u) = self.vm_users.iter().find(|u| u.username == username) {
            return Some(u.password.clone());
        }
        let index: usize = username
            .strip_prefix("user")?
            .strip_suffix("@example.com")?
            .parse()
            .ok()?;
        (index < self.seeded).then(|| {
            let id = FIRST_SEEDED_ID + index as u64;
            self.seeded_changes
                .get(&id)
                .cloned()
                .unwrap_or_else(|| Self::seeded_password(id))
        })
    }

    /// Finds a TVM user by numeric id or uuid: (id, username, password).
    pub fn vm_user(&self, key: &str) -> Option<(u64, String, String)> {
        let id: u64 = key.parse().ok().or_else(|| {
            let all = self
                .vm_users
                .iter()
                .map(|u| u.id)
                .chain((0..self.seeded as u64).map(|i| FIRST_SEEDED_ID + i));
            all.into_iter().find(|id| uuid_for(0x05e4, *id) == key)
        })?;
        if let Some(u) = self.vm_users.iter().find(|u| u.id == id) {
            return Some((u.id, u.username.clone(), u.password.clone()));
        }
        let index = id.checked_sub(FIRST_SEEDED_ID)? as usize;
        (index < self.seeded).then(|| {
            (
                id,
                Self::seeded_name(index),
                self.seeded_changes
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| Self::seeded_password(id)),
            )
        })
    }

    /// Sets a TVM user's password and clears its failed-login count.
    pub fn set_vm_password(&mut self, id: u64, password: String) {
        if let Some(u) = self.vm_users.iter_mut().find(|u| u.id == id) {
            u.password = password;
            u.failures = 0;
        } else {
            self.seeded_changes.insert(id, password);
        }
        self.invalidate_users();
    }

    /// Records a login attempt; returns whether it succeeds (lockout after 5 failures).
    pub fn vm_login(&mut self, username: &str, password: &str) -> bool {
        let Some(user) = self.vm_users.iter_mut().find(|u| u.username == username) else {
            return self.vm_password(username).is_some_and(|p| p == password);
        };
        if user.failures > 5 {
            return false;
        }
        if user.password == password {
            user.failures = 0;
            true
        } else {
            user.failures += 1;
            self.invalidate_users();
            false
        }
    }

    fn user_json(
        out: &mut Vec<u8>,
        id: u64,
        username: &str,
        permissions: u32,
        failures: u32,
        container: &str,
        enabled: bool,
    ) {
        let name = serde_json::to_string(username).unwrap_or_default();
        let uuid = uuid_for(0x05e4, id);
        out.extend_from_slice(
            format!(
                r#"{{"id":{id},"uuid":"{uuid}","uuid_id":"{uuid}","username":{name},"user_name":{name},"email":{name},"name":"","type":"local","permissions":{permissions},"enabled":{enabled},"login_fail_count":{failures},"login_fail_total":{failures},"container_uuid":"{container}"}}"#
            )
            .as_bytes(),
        );
    }

    /// Drops the built `GET /users` answers (a user changed).
    pub fn invalidate_users(&mut self) {
        self.users_json = None;
        self.users_gz = None;
    }

    /// The `GET /users` body gzipped, built and compressed once and kept until a user
    /// changes: serving a large tenant's list costs a copy, not a rebuild and a compression.
    pub fn users_body_gzip(&mut self) -> Vec<u8> {
        if self.users_json.is_none() {
            self.users_gz = None;
        }
        if let Some(gz) = &self.users_gz {
            return gz.clone();
        }
        let body = self.users_body();
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 8),
            flate2::Compression::default(),
        );
        let gz = std::io::Write::write_all(&mut enc, &body)
            .and_then(|()| enc.finish())
            .unwrap_or_default();
        self.users_gz = Some(gz.clone());
        gz
    }

    /// A TVM user's (enabled, password, saml, api) access.
    pub fn vm_user_access(&self, id: u64) -> (bool, bool, bool, bool) {
        self.vm_access
            .get(&id)
            .copied()
            .unwrap_or((true, true, false, true))
    }

    /// The `GET /users` body, built once and kept until a user changes.
    pub fn users_body(&mut self) -> Vec<u8> {
        if let Some(cached) = &self.users_json {
            return cached.clone();
        }
        let mut out = Vec::with_capacity(64 + (self.vm_users.len() + self.seeded) * 330);
        out.extend_from_slice(b"{\"users\":[");
        let mut first = true;
        let mut sep = |out: &mut Vec<u8>| {
            if !first {
                out.push(b',');
            }
            first = false;
        };
        for u in &self.vm_users {
            sep(&mut out);
            Self::user_json(
                &mut out,
                u.id,
                &u.username,
                u.permissions,
                u.failures,
                &self.container_uuid,
                self.vm_user_access(u.id).0,
            );
        }
        for i in 0..self.seeded {
            sep(&mut out);
            Self::user_json(
                &mut out,
                FIRST_SEEDED_ID + i as u64,
                &Self::seeded_name(i),
                32,
                0,
                &self.container_uuid,
                self.vm_user_access(FIRST_SEEDED_ID + i as u64).0,
            );
        }
        out.extend_from_slice(b"]}");
        self.users_json = Some(out.clone());
        out
    }

    /// One TVM user object.
    pub fn user_value(&self, id: u64) -> Option<Value> {
        let (id, username, _) = self.vm_user(&id.to_string())?;
        let permissions = self
            .vm_users
            .iter()
            .find(|u| u.id == id)
            .map_or(32, |u| u.permissions);
        let mut out = Vec::new();
        Self::user_json(
            &mut out,
            id,
            &username,
            permissions,
            0,
            &self.container_uuid,
            self.vm_user_access(id).0,
        );
        serde_json::from_slice(&out).ok()
    }
}

fn vm_credential(id: u64, seed: &CredentialSeed) -> Credential {
    let mut settings = Map::new();
    let mut put = |k: &str, v: &str| {
        settings.insert(k.to_owned(), Value::String(v.to_owned()));
    };
    match seed.kind {
        CredentialKind::Windows => {
            put("domain", &seed.domain);
            put("username", &seed.username);
            put("auth_method", "Password");
            put("password", &seed.password);
        }
        CredentialKind::Ssh => {
            put("username", &seed.username);
            put("auth_method", "password");
            put("custom_password_prompt", "");
            put("elevate_privileges_with", "Nothing");
            put("password", &seed.password);
        }
        CredentialKind::Database => {
            put("type", "PostgreSQL");
            put("authtype", "Password");
            put("username", &seed.username);
            put("password", &seed.password);
            put("port", "5432");
            put("database", "");
        }
        // The one setting of the type (test_credentials_types_success.yaml).
        CredentialKind::SnmpV1 => put("community_string", &seed.password),
    }
    Credential {
        id,
        uuid: uuid_for(0xc4ed, id),
        name: seed.name.clone(),
        kind: seed.kind,
        settings,
    }
}

fn sc_credential(id: u64, seed: &CredentialSeed) -> Credential {
    let mut settings = Map::new();
    let mut put = |k: &str, v: &str| {
        settings.insert(k.to_owned(), Value::String(v.to_owned()));
    };
    match seed.kind {
        CredentialKind::Windows => {
            put("authType", "password");
            put("username", &seed.username);
            put("password", &seed.password);
            put("domain", &seed.domain);
        }
        CredentialKind::Ssh => {
            put("authType", "password");
            put("username", &seed.username);
            put("password", &seed.password);
            put("privilegeEscalation", "none");
        }
        CredentialKind::Database => {
            put("dbType", "PostgreSQL");
            put("authType", "password");
            put("login", &seed.username);
            put("password", &seed.password);
            put("port", "5432");
        }
        CredentialKind::SnmpV1 => put("communityName", &seed.password),
    }
    Credential {
        id,
        uuid: uuid_for(0x5c, id),
        name: seed.name.clone(),
        kind: seed.kind,
        settings,
    }
}
