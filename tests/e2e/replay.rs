//! Replays of real Tenable answers recorded in pyTenable's test suite (MIT; licence beside the
//! cassettes in tests/fixtures). Each cassette is served over loopback exactly as recorded
//! (status, headers, gzip bytes), our client talks to it, and each case states what the client
//! must make of it. The cassettes are verbatim copies (tests/fixtures/README.md), never edited.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;
use tenable_rotate::emulator::http::{Handler, HttpServer, Reply, Request, Response};
use tenable_rotate::secret::{Redactor, Secret};
use tenable_rotate::tenable::{
    ApiKeys, CredentialMatch, Platform, ScClient, ScUser, TenableError, VmClient, VmUser,
};
use tenable_rotate::transport::{BaseUrl, TransportConfig};

/// One recorded request and its answer.
#[derive(Clone, Debug)]
struct Interaction {
    method: String,
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Interaction {
    /// The answer's body as the client sees it (gunzipped).
    fn plain_body(&self) -> Vec<u8> {
        if self
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v.contains("gzip"))
        {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&self.body[..]), &mut out)
                .unwrap();
            out
        } else {
            self.body.clone()
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.plain_body()).expect("recorded JSON body")
    }
}

fn cassette_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytenable-cassettes")
}

/// Strips YAML tags (`!!python/unicode`, `!!binary`): the value under them is what we want.
fn untag(v: &Yaml) -> &Yaml {
    match v {
        Yaml::Tagged(t) => untag(&t.value),
        other => other,
    }
}

fn text(v: &Yaml) -> String {
    untag(v).as_str().unwrap_or_default().to_owned()
}

/// Loads a vcrpy cassette. Gzip bodies are `!!binary` base64 text, marked by the
/// `content-encoding: gzip` header; they are served as the recorded bytes.
fn load(name: &str) -> Vec<Interaction> {
    let path = cassette_dir().join(name);
    let file = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Yaml = serde_yaml_ng::from_str(&file).expect("cassette YAML");
    let mut out = Vec::new();
    for item in untag(&doc["interactions"])
        .as_sequence()
        .expect("interactions")
    {
        let uri = text(&item["request"]["uri"]);
        let after_scheme = &uri[uri.find("://").unwrap() + 3..];
        let path_and_query = &after_scheme[after_scheme.find('/').unwrap_or(after_scheme.len())..];
        let path = path_and_query.split('?').next().unwrap().to_owned();
        let response = &item["response"];
        let mut headers = Vec::new();
        if let Some(h) = untag(&response["headers"]).as_mapping() {
            for (k, v) in h {
                let value = match untag(v) {
                    Yaml::Sequence(a) => a.first().map(text).unwrap_or_default(),
                    other => text(other),
                };
                headers.push((text(k), value));
            }
        }
        let gzip = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v.contains("gzip"));
        let raw = text(&response["body"]["string"]);
        let body = if gzip {
            STANDARD
                .decode(raw.split_whitespace().collect::<String>())
                .expect("base64 gzip body")
        } else {
            raw.into_bytes()
        };
        // Framing headers are the server's business; the recorded ones describe the old wire.
        headers.retain(|(k, _)| {
            ![
                "content-length",
                "transfer-encoding",
                "connection",
                "keep-alive",
            ]
            .contains(&k.to_ascii_lowercase().as_str())
        });
        out.push(Interaction {
            method: text(&item["request"]["method"]),
            path,
            status: untag(&response["status"]["code"]).as_u64().unwrap() as u16,
            headers,
            body,
        });
    }
    out
}

/// Serves interactions in recorded order, each once, matched on method and path, and keeps
/// the request bodies it received.
struct Replay {
    pending: Mutex<Vec<Interaction>>,
    received: Mutex<Vec<(String, String, Vec<u8>)>>,
}

impl Handler for Replay {
    fn handle(&self, request: Request) -> Reply {
        self.received.lock().unwrap().push((
            request.method.clone(),
            request.path.clone(),
            request.body.clone(),
        ));
        let mut pending = self.pending.lock().unwrap();
        match pending
            .iter()
            .position(|i| i.method == request.method && i.path == request.path)
        {
            Some(at) => {
                let i = pending.remove(at);
                Reply::Send(Response {
                    status: i.status,
                    headers: i.headers,
                    body: i.body,
                })
            }
            None => Reply::Send(Response {
                status: 599,
                headers: Vec::new(),
                body: b"not in the cassette".to_vec(),
            }),
        }
    }
}

struct Served {
    server: HttpServer,
    replay: Arc<Replay>,
}

impl Served {
    fn new(interactions: Vec<Interaction>) -> Served {
        let replay = Arc::new(Replay {
            pending: Mutex::new(interactions),
            received: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = HttpServer::start(listener, None, replay.clone()).unwrap();
        Served { server, replay }
    }

    fn base(&self) -> BaseUrl {
        BaseUrl::parse(&format!("http://{}", self.server.local_addr())).unwrap()
    }

    fn vm(&self) -> VmClient {
        VmClient::new(
            self.base(),
            &keys(),
            &TransportConfig::default(),
            Redactor::default(),
        )
        .unwrap()
    }

    fn sc(&self) -> ScClient {
        ScClient::new(
            self.base(),
            &keys(),
            &TransportConfig::default(),
            Redactor::default(),
        )
        .unwrap()
    }

    fn sent(&self, method: &str, path: &str) -> Value {
        let received = self.replay.received.lock().unwrap();
        let (_, _, body) = received
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .expect("request sent");
        serde_json::from_slice(body).unwrap()
    }
}

fn keys() -> ApiKeys {
    ApiKeys {
        access_key: Secret::from("TIO_ACCESS_KEY"),
        secret_key: Secret::from("TIO_SECRET_KEY"),
    }
}

const NEW: &str = "Replay-N3w-Passw0rd!";

#[test]
fn tvm_users_list_finds_a_recorded_user_by_name_and_misses_others() {
    let recorded = load("io/test_users_list_users.yaml");
    let list = recorded
        .iter()
        .find(|i| i.method == "GET" && i.path == "/users")
        .unwrap();
    let users = list.json()["users"].as_array().unwrap().clone();
    let last = users.last().unwrap();
    let served = Served::new(recorded.clone());
    let found = served
        .vm()
        .find_user(last["username"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        found,
        VmUser {
            id: last["id"].to_string(),
            username: last["username"].as_str().unwrap().to_owned()
        }
    );

    let served = Served::new(recorded);
    assert!(matches!(
        served.vm().find_user("nobody@pytenable.io"),
        Err(TenableError::NotFound { kind: "user", .. })
    ));
}

#[test]
fn tvm_change_password_accepts_the_recorded_empty_200() {
    let served = Served::new(load("io/test_users_change_password.yaml"));
    let user = VmUser {
        id: "3170".into(),
        username: "u@pytenable.io".into(),
    };
    let request_id = served
        .vm()
        .change_password(
            &user,
            &Secret::from(NEW),
            &Secret::from("Replay-Old-Passw0rd!"),
        )
        .unwrap();
    assert_eq!(
        request_id.as_deref(),
        Some("5b356da3d212b6cdb16e12eaaecfbf00")
    );
    let sent = served.sent("PUT", "/users/3170/chpasswd");
    assert_eq!(sent["password"], NEW);
    assert_eq!(sent["current_password"], "Replay-Old-Passw0rd!");
}

#[test]
fn tvm_change_password_404_is_user_not_found() {
    let served = Served::new(load("io/test_users_change_password_notfounderror.yaml"));
    let user = VmUser {
        id: "0".into(),
        username: "gone@pytenable.io".into(),
    };
    let err = served
        .vm()
        .change_password(&user, &Secret::from(NEW), &Secret::from(""))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TenableError::NotFound {
                platform: Platform::Vm,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        served
            .sent("PUT", "/users/0/chpasswd")
            .get("current_password")
            .is_none(),
        "empty old password is not sent"
    );
}

#[test]
fn tvm_plain_error_body_gives_its_message() {
    let recorded = load("io/test_users_two_factor.yaml");
    let bad = recorded.iter().find(|i| i.status == 400).unwrap();
    let reply = tenable_rotate::transport::Reply {
        status: 400,
        request_id: None,
        set_cookie: None,
        body: bad.plain_body(),
    };
    let err = tenable_rotate::tenable::classify(
        Platform::Vm,
        "x",
        &reply,
        &Redactor::default(),
        tenable_rotate::tenable::Asked::Change {
            kind: "user",
            name: "x",
        },
    );
    assert!(
        err.to_string()
            .contains("not a part of the current Container's approved domains"),
        "{err}"
    );
}

#[test]
fn tvm_credential_details_and_edit_change_only_the_password() {
    let recorded = load("io/test_credentials_edit_success.yaml");
    let uuid = recorded[0]
        .path
        .trim_start_matches("/credentials/")
        .to_owned();
    let served = Served::new(recorded.clone());
    let vm = served.vm();
    let credential = vm.credential(&uuid, "recorded").unwrap();
    assert_eq!(credential.kind, "SSH");
    assert_eq!(credential.password_key, Some("password"));
    vm.change_credential_password(&credential, &Secret::from(NEW))
        .unwrap();
    let sent = served.sent("PUT", &format!("/credentials/{uuid}"));
    let before = recorded[0].json();
    assert_eq!(sent["settings"]["password"], NEW);
    for (key, value) in before["settings"].as_object().unwrap() {
        if key != "password" {
            assert_eq!(
                &sent["settings"][key], value,
                "setting {key} must go back as read"
            );
        }
    }
    assert_eq!(sent["name"], before["name"]);
}

#[test]
fn tvm_credential_list_and_details_shapes_are_read() {
    let list = load("io/test_credentials_list.yaml");
    let details = load("io/test_credentials_details_success.yaml");
    let uuid = list[0].json()["credentials"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    // Serve the details under the listed uuid: the two cassettes were recorded apart.
    let mut both = list.clone();
    let mut d = details[0].clone();
    d.path = format!("/credentials/{uuid}");
    both.push(d);
    let served = Served::new(both);
    // Select by account: the details cassette's credential is `root`'s SSH login.
    let found = served
        .vm()
        .find_credentials(&CredentialMatch::Username("root".into()))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, uuid);
    assert_eq!(found[0].username.as_deref(), Some("root"));
}

#[test]
fn sc_user_list_in_the_wrapped_shape_is_read() {
    let served = Served::new(load("sc/test_users_list_success.yaml"));
    assert_eq!(
        served.sc().find_user("user8").unwrap(),
        ScUser {
            id: "8".into(),
            username: "user8".into()
        }
    );
}

#[test]
fn sc_user_patch_sends_the_password_and_reads_the_envelope() {
    let served = Served::new(load("sc/test_users_edit_success.yaml"));
    let user = ScUser {
        id: "4".into(),
        username: "newusername".into(),
    };
    served
        .sc()
        .change_password(&user, &Secret::from(NEW), None)
        .unwrap();
    let sent = served.sent("PATCH", "/rest/user/4");
    assert_eq!(sent, serde_json::json!({"password": NEW}));
}

#[test]
fn sc_token_login_is_a_working_password_and_is_closed() {
    let served = Served::new(load("sc/sc_login.yaml"));
    assert!(
        served
            .sc()
            .password_logs_in("admin", &Secret::from(NEW))
            .unwrap()
    );
    let received = served.replay.received.lock().unwrap();
    assert!(
        received
            .iter()
            .any(|(m, p, _)| m == "DELETE" && p == "/rest/token"),
        "the session is closed"
    );
}

#[test]
fn sc_credential_details_and_patch() {
    let details = load("sc/test_credentials_details_success.yaml");
    let credential = tenable_rotate::tenable::Credential::from_sc(
        details[0].json()["response"].as_object().unwrap(),
    );
    assert_eq!(
        (
            credential.kind.as_str(),
            credential.username.as_deref(),
            credential.password_key
        ),
        ("ssh", Some("root"), Some("password"))
    );

    let served = Served::new(load("sc/test_credentials_edit_success.yaml"));
    let mut target = credential.clone();
    target.id = "1000004".into();
    served
        .sc()
        .change_credential_password(&target, &Secret::from(NEW))
        .unwrap();
    assert_eq!(
        served.sent("PATCH", "/rest/credential/1000004"),
        serde_json::json!({"password": NEW})
    );
}

#[test]
fn sc_does_not_exist_code_is_not_found_with_the_object_named() {
    let recorded = load("sc/test_policies_delete.yaml");
    let forbidden = recorded.iter().find(|i| i.status == 403).unwrap();
    let reply = tenable_rotate::transport::Reply {
        status: 403,
        request_id: None,
        set_cookie: None,
        body: forbidden.plain_body(),
    };
    let err = tenable_rotate::tenable::classify(
        Platform::Sc,
        "x",
        &reply,
        &Redactor::default(),
        tenable_rotate::tenable::Asked::Change {
            kind: "user",
            name: "x",
        },
    );
    // SC's code 147 means "does not exist" whatever the request (issue 11, item 1).
    assert!(matches!(err, TenableError::NotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no Tenable Security Center user matches 'x'"),
        "{err}"
    );
}

#[test]
fn sc_credential_list_in_the_array_shape_selects_by_exact_name() {
    let list = load("sc/test_credentials_list_success.yaml");
    let details = load("sc/test_credentials_details_success.yaml");
    // Serve the details under the listed id: the two cassettes were recorded apart.
    let mut both = list.clone();
    let mut d = details[0].clone();
    d.path = "/rest/credential/1000007".into();
    both.push(d);
    let served = Served::new(both);
    // "Example Creds" must not also select "Example Creds8".
    let found = served
        .sc()
        .find_credentials(&CredentialMatch::Name("Example Creds".into()))
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].username.as_deref(),
        Some("root"),
        "read from the details"
    );
    let received = served.replay.received.lock().unwrap();
    assert!(
        !received
            .iter()
            .any(|(_, p, _)| p == "/rest/credential/1000008"),
        "only the named credential's details are read"
    );
}

/// What the replay tests make of each recorded cassette. Every cassette under
/// tests/fixtures/pytenable-cassettes must be here: replayed by the named tests, or set
/// aside because it touches no endpoint our clients call.
const CASSETTES: [(&str, Outcome); 19] = [
    (
        "io/test_credentials_details_success.yaml",
        Outcome::Replayed(
            "tvm_credential_list_and_details_shapes_are_read: the credential is read as root's SSH login",
        ),
    ),
    (
        "io/test_credentials_edit_success.yaml",
        Outcome::Replayed(
            "tvm_credential_details_and_edit_change_only_the_password: only `password` changes",
        ),
    ),
    (
        "io/test_credentials_list.yaml",
        Outcome::Replayed(
            "tvm_credential_list_and_details_shapes_are_read: the listing is paged and read",
        ),
    ),
    (
        "io/test_credentials_types_success.yaml",
        Outcome::Unused("GET /credentials/types: credential kinds are read from each credential"),
    ),
    (
        "io/test_users_change_password.yaml",
        Outcome::Replayed("tvm_change_password_accepts_the_recorded_empty_200: success"),
    ),
    (
        "io/test_users_change_password_notfounderror.yaml",
        Outcome::Replayed("tvm_change_password_404_is_user_not_found: exit 4"),
    ),
    (
        "io/test_users_details.yaml",
        Outcome::Unused("GET /users/{id}: the user comes from GET /users"),
    ),
    (
        "io/test_users_edit.yaml",
        Outcome::Unused("PUT /users/{id}: we change only the password"),
    ),
    (
        "io/test_users_list_users.yaml",
        Outcome::Replayed(
            "tvm_users_list_finds_a_recorded_user_by_name_and_misses_others: found, and not-found",
        ),
    ),
    (
        "io/test_users_two_factor.yaml",
        Outcome::Replayed(
            "tvm_plain_error_body_gives_its_message: its 400 body's message is shown",
        ),
    ),
    (
        "sc/sc_login.yaml",
        Outcome::Replayed(
            "sc_token_login_is_a_working_password_and_is_closed: logs in, closes the session",
        ),
    ),
    (
        "sc/sc_login_error.yaml",
        Outcome::Unused("GET /rest/system: we probe the keys with GET /rest/currentUser"),
    ),
    (
        "sc/test_credentials_details_success.yaml",
        Outcome::Replayed("sc_credential_details_and_patch: ssh, root, `password`"),
    ),
    (
        "sc/test_credentials_edit_success.yaml",
        Outcome::Replayed("sc_credential_details_and_patch: a flat {\"password\"} PATCH"),
    ),
    (
        "sc/test_credentials_list_success.yaml",
        Outcome::Replayed(
            "sc_credential_list_in_the_array_shape_selects_by_exact_name: exact name only",
        ),
    ),
    (
        "sc/test_policies_delete.yaml",
        Outcome::Replayed(
            "sc_does_not_exist_code_is_not_found_with_the_object_named: code 147 is not found (exit 4)",
        ),
    ),
    (
        "sc/test_users_details_success.yaml",
        Outcome::Unused("GET /rest/user/{id}: the user comes from GET /rest/user"),
    ),
    (
        "sc/test_users_edit_success.yaml",
        Outcome::Replayed(
            "sc_user_patch_sends_the_password_and_reads_the_envelope: {\"password\"} sent",
        ),
    ),
    (
        "sc/test_users_list_success.yaml",
        Outcome::Replayed("sc_user_list_in_the_wrapped_shape_is_read: user8 found"),
    ),
];

/// Whether a cassette is replayed, and by which test with which expected outcome.
#[derive(Debug)]
enum Outcome {
    Replayed(&'static str),
    Unused(&'static str),
}

/// The endpoints our client calls, as `METHOD /path` with `{}` for an id, taken from what it
/// actually sends: the binary runs every kind of rotation (a user and credentials by name and by
/// account, on both platforms; a re-run, which proves "in sync" with a login; `check`; a verify
/// login) against one emulator, which records the route of every request it receives. Written by
/// hand, this list once missed `GET /rest/credential/{id}`.
fn endpoints_the_client_calls() -> std::collections::BTreeSet<String> {
    use super::util::*;
    use serde_json::json;
    use tenable_rotate::emulator::{Emulator, EmulatorConfig};

    let seed = |s: &str| s.parse().expect("credential seed");
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![(USER.into(), OLD.into())],
        sc_users: vec![(USER.into(), OLD.into())],
        credentials: vec![
            seed("windows:Windows scan:CORP\\svc-scan:Old-Passw0rd!2024"),
            seed("ssh:Linux scan:svc-scan:Old-Passw0rd!2024"),
        ],
        sc_credentials: vec![
            seed("windows:SC Windows scan:CORP\\svc-scan:Old-Passw0rd!2024"),
            seed("ssh:SC Linux scan:svc-scan:Old-Passw0rd!2024"),
        ],
        ..EmulatorConfig::default()
    })
    .expect("start emulator");
    let vm = json!({"tenable_url": e.url()});
    let sc = json!({"tenable_sc_host": e.url()});
    let with = |base: &serde_json::Value, extra: serde_json::Value| {
        let mut fields = base.clone();
        if let (Some(f), Some(x)) = (fields.as_object_mut(), extra.as_object()) {
            f.extend(x.clone());
        }
        fields
    };
    let line = |user: &str, fields: serde_json::Value| {
        payload(
            user,
            NEW,
            OLD,
            json!([key_record(fields), user_record(user, OLD)]),
        )
    };
    let by_name = json!({"tenable_target": "credential", "tenable_credential_name": "Linux scan"});
    let sc_by_name =
        json!({"tenable_target": "credential", "tenable_credential_name": "SC Linux scan"});
    let by_account =
        json!({"tenable_target": "credential", "tenable_credential_match": "username"});
    let scenarios = [
        (vec!["check"], line(USER, vm.clone())),
        (
            vec![],
            line(USER, with(&vm, json!({"tenable_verify": "login"}))),
        ),
        // The re-run is rejected (same password) and proved in sync with a login.
        (vec![], line(USER, vm.clone())),
        (vec!["check"], line(USER, sc.clone())),
        (
            vec![],
            line(USER, with(&sc, json!({"tenable_verify": "login"}))),
        ),
        (vec![], line(USER, sc.clone())),
        (vec!["check"], line("svc-scan", with(&vm, by_name.clone()))),
        (vec![], line("svc-scan", with(&vm, by_name))),
        (vec![], line("svc-scan", with(&vm, by_account.clone()))),
        (vec![], line("svc-scan", with(&sc, sc_by_name))),
        (vec![], line("svc-scan", with(&sc, by_account))),
    ];
    for (args, stdin) in scenarios {
        let done = run(&args, stdin.as_bytes(), &[]);
        assert_eq!(
            done.code, 0,
            "a scenario failed, so its routes would be missed: {done:#?}"
        );
    }
    e.routes_seen()
        .iter()
        .map(|route| route.replace("{id}", "{}").replace("{uuid}", "{}"))
        .collect()
}

/// `METHOD /path` with every segment that holds a digit turned into `{}`.
fn template(method: &str, path: &str) -> String {
    let path = path
        .split('/')
        .map(|seg| {
            if seg.chars().any(|c| c.is_ascii_digit()) {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    format!("{method} {path}")
}

#[test]
fn the_endpoints_in_use_are_derived_from_what_the_client_sends() {
    let ours = endpoints_the_client_calls();
    // What every rotation needs; if one is missing, the scenarios no longer exercise it.
    for needed in [
        "GET /users",
        "PUT /users/{}/chpasswd",
        "POST /session",
        "GET /credentials",
        "GET /credentials/{}",
        "PUT /credentials/{}",
        "GET /rest/user",
        "PATCH /rest/user/{}",
        "POST /rest/token",
        "GET /rest/credential",
        "GET /rest/credential/{}",
        "PATCH /rest/credential/{}",
    ] {
        assert!(ours.contains(needed), "{needed} not sent: {ours:?}");
    }
    assert_eq!(
        template("GET", "/rest/credential/1000004"),
        "GET /rest/credential/{}"
    );
}

#[test]
fn every_cassette_is_accounted_for_and_every_one_we_can_use_is_replayed() {
    let mut on_disk = Vec::new();
    for platform in ["io", "sc"] {
        for entry in std::fs::read_dir(cassette_dir().join(platform)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".yaml") {
                on_disk.push(format!("{platform}/{name}"));
            }
        }
    }
    on_disk.sort();
    let listed: Vec<String> = CASSETTES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "a cassette was added or removed: state its outcome here"
    );

    let source = std::fs::read_to_string(file!()).unwrap();
    for (name, outcome) in CASSETTES {
        match outcome {
            Outcome::Replayed(what) => {
                let test = what.split(':').next().unwrap();
                assert!(
                    source.contains(&format!("fn {test}()")),
                    "{name}: no test named {test}"
                );
                assert!(
                    source.contains(&format!("load(\"{name}\")")),
                    "{name}: {test} does not load it"
                );
            }
            Outcome::Unused(_) => {}
        }
    }
    let set_aside_in_use = set_aside_but_in_use(&CASSETTES, &endpoints_the_client_calls());
    assert!(
        set_aside_in_use.is_empty(),
        "cassettes set aside although the client calls their endpoints; replay them: {set_aside_in_use:#?}"
    );
}

/// The cassettes marked `Unused` that hold a request to an endpoint in `ours`.
fn set_aside_but_in_use(
    cassettes: &[(&str, Outcome)],
    ours: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    cassettes
        .iter()
        .filter_map(|(name, outcome)| {
            let Outcome::Unused(why) = outcome else {
                return None;
            };
            let used: Vec<String> = load(name)
                .iter()
                .map(|i| template(&i.method, &i.path))
                .filter(|t| ours.contains(t))
                .collect();
            (!used.is_empty()).then(|| format!("{name} ({why}) holds {used:?}"))
        })
        .collect()
}

#[test]
fn a_cassette_set_aside_while_its_endpoint_is_in_use_is_caught() {
    // The old hand-written list lacked GET /rest/credential/{id}; a cassette of it set aside
    // must now be named.
    let ours = endpoints_the_client_calls();
    let set_aside = [(
        "sc/test_credentials_details_success.yaml",
        Outcome::Unused("pretend it were set aside"),
    )];
    let caught = set_aside_but_in_use(&set_aside, &ours);
    assert_eq!(caught.len(), 1, "{caught:?}");
    assert!(caught[0].contains("GET /rest/credential/{}"), "{caught:?}");
    let really_unused = [(
        "io/test_credentials_types_success.yaml",
        Outcome::Unused("GET /credentials/types"),
    )];
    assert!(set_aside_but_in_use(&really_unused, &ours).is_empty());
}
