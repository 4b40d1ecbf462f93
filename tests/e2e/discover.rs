//! `discover`: every user and managed credential with its verdict, in three formats, read-only,
//! and the Keeper import file (its shape; Commander's own parser runs in
//! conformance/keeper_import.sh).

use serde_json::Value;
use tenable_rotate::emulator::{ApiRole, CredentialSeed, Emulator, EmulatorConfig};

use super::util::*;

const FORMULA_USER: &str = "=HYPERLINK(\"http://x\")@example.com";

fn emulator() -> Emulator {
    let seed = |s: &str| s.parse::<CredentialSeed>().unwrap();
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: [
            (USER, OLD),
            ("bob@example.com", OLD),
            ("carol@example.com", OLD),
            (FORMULA_USER, OLD),
        ]
        .iter()
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .collect(),
        credentials: vec![
            seed(&format!("windows:AD scan:CORP\\svc-scan:{OLD}")),
            seed(&format!("database:PG scan:svc-scan@corp.example.com:{OLD}")),
            seed(&format!("ssh:Linux root:root:{OLD}")),
            seed("snmp:Switches:x:public-community"),
        ],
        sc_users: vec![("dave".into(), OLD.into())],
        sc_credentials: vec![seed(&format!("ssh:SC root:root:{OLD}"))],
        ..EmulatorConfig::default()
    })
    .unwrap();
    e.set_vm_user_access("bob@example.com", false, true, false, true);
    e.set_vm_user_access("carol@example.com", true, false, true, false);
    e
}

fn discover(e: &Emulator, args: &[&str]) -> Run {
    let url = e.url();
    let mut all = vec!["discover", "--url", url.as_str()];
    all.extend_from_slice(args);
    run(&all, b"", &KEYS)
}

fn rows(json: &Value) -> Vec<&Value> {
    json["rows"].as_array().unwrap().iter().collect()
}

fn row<'a>(json: &'a Value, name: &str) -> &'a Value {
    rows(json)
        .into_iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row {name}: {json:#}"))
}

/// Proves that nothing but reads reached the emulator.
fn assert_read_only(e: &Emulator) {
    let routes = e.routes_seen();
    assert!(!routes.is_empty());
    for route in &routes {
        assert!(
            route.starts_with("GET "),
            "discover sent {route}: {routes:?}"
        );
    }
    for route in [
        "PUT /users/{id}/chpasswd",
        "PUT /credentials/{uuid}",
        "PATCH /rest/user/{id}",
        "PATCH /rest/credential/{id}",
        "POST /session",
        "POST /rest/token",
    ] {
        assert_eq!(e.request_count(route), 0, "{route}");
        assert_eq!(e.changes_applied(route), 0, "{route}");
    }
}

#[test]
fn vm_json_gives_each_row_a_verdict_and_its_settings_and_sends_only_reads() {
    let e = emulator();
    let out = discover(&e, &["--output", "json", "--sign-in-methods"]);
    out.expect_code(0).expect_no_secret(&SECRETS);
    let json: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(json["schema"], "tenable-rotate/discover/1");
    assert_eq!(json["platform"], "vm");
    assert_eq!(json["api_user"]["role"], "Administrator [64]");
    // Every row has the same keys.
    let keys: Vec<Vec<&String>> = rows(&json)
        .iter()
        .map(|r| r.as_object().unwrap().keys().collect())
        .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");

    let alice = row(&json, USER);
    assert_eq!(alice["verdict"], "rotatable-as-user");
    assert_eq!(alice["pam_user_login"], USER);
    assert_eq!(alice["key_record"]["tenable_target"], "user");
    assert_eq!(alice["sign_in"], "password+api");
    let bob = row(&json, "bob@example.com");
    assert_eq!(
        (&bob["verdict"], &bob["reason"], &bob["enabled"]),
        (
            &Value::from("not-rotatable"),
            &Value::from("disabled in Tenable"),
            &Value::from(false)
        )
    );
    let carol = row(&json, "carol@example.com");
    assert_eq!(carol["verdict"], "not-rotatable");
    assert!(
        carol["reason"].as_str().unwrap().contains("SAML only"),
        "{carol}"
    );

    let ad = row(&json, "AD scan");
    assert_eq!(ad["verdict"], "rotatable-as-credential");
    assert_eq!(ad["account"], "CORP\\svc-scan");
    assert_eq!(ad["type"], "Windows");
    assert_eq!(ad["category"], "Host");
    assert_eq!(ad["password_setting"], true);
    assert_eq!(ad["key_record"]["tenable_target"], "credential");
    assert_eq!(ad["key_record"]["tenable_credential_match"], "username");
    let snmp = row(&json, "Switches");
    assert_eq!(snmp["verdict"], "not-rotatable");
    assert_eq!(snmp["password_setting"], false);
    assert!(snmp["reason"].as_str().unwrap().contains("SNMP"));
    assert_eq!(json["counts"]["users"], 5);
    assert_eq!(json["counts"]["credentials"], 4);
    assert_eq!(json["counts"]["accounts_in_several_credentials"], 1);
    assert!(!out.stdout.contains("public-community"));
    assert_read_only(&e);
    assert!(e.request_count("GET /users/{id}/authorizations") >= 4);
}

#[test]
fn the_table_fits_a_100_column_terminal_and_the_csv_opens_safely() {
    let e = emulator();
    let out = discover(&e, &[]);
    out.expect_code(0).expect_no_secret(&SECRETS);
    for line in out.stdout.lines() {
        assert!(line.chars().count() <= 100, "{} wide: {line}", line.len());
    }
    let header = out.stdout.lines().find(|l| l.starts_with("ID ")).unwrap();
    let alice = out.stdout.lines().find(|l| l.contains(USER)).unwrap();
    // Aligned: the columns start where the header's do.
    let col = |line: &str, word: &str| line.find(word).unwrap();
    assert_eq!(
        col(header, "ROLE"),
        col(alice, "Standard"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("NAME"), "{}", out.stdout);

    let csv = discover(&e, &["--output", "csv"]);
    csv.expect_code(0).expect_no_secret(&SECRETS);
    let table = parse_csv(&csv.stdout);
    let header = &table[0];
    assert_eq!(header.len(), 21);
    assert!(table.iter().all(|r| r.len() == header.len()), "{table:?}");
    let name = header.iter().position(|h| h == "name").unwrap();
    let formula = table
        .iter()
        .find(|r| r[name].contains("HYPERLINK"))
        .unwrap();
    assert!(formula[name].starts_with("'="), "{formula:?}");
    assert_eq!(&formula[name][1..], FORMULA_USER);
    assert_read_only(&e);
}

#[test]
fn sc_with_a_limited_role_says_what_the_keys_cannot_do() {
    let e = emulator();
    e.set_api_role(ApiRole::Basic);
    let out = discover(&e, &["--platform", "sc", "--output", "json"]);
    out.expect_code(0).expect_no_secret(&SECRETS);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["platform"], "sc");
    assert_eq!(json["api_user"]["role"], "Auditor");
    // An Auditor sees only itself, and may change only its own password.
    let me = row(&json, "secmanager");
    assert_eq!(me["verdict"], "rotatable-as-user", "{me}");
    let cred = row(&json, "SC root");
    assert_eq!(cred["verdict"], "not-rotatable");
    assert!(cred["reason"].as_str().unwrap().contains("Can Edit"));
    assert_read_only(&e);

    e.set_api_role(ApiRole::Admin);
    let out = discover(&e, &["--platform", "sc", "--output", "json"]);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(row(&json, "dave")["verdict"], "rotatable-as-user");
    assert_eq!(row(&json, "SC root")["verdict"], "rotatable-as-credential");
}

#[test]
fn a_name_that_quotes_a_key_is_redacted_in_every_format() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![
            (format!("x{ACCESS}@example.com"), OLD.into()),
            (format!("{b64}@example.com"), OLD.into()),
        ],
        ..EmulatorConfig::default()
    })
    .unwrap();
    for format in ["table", "json", "csv"] {
        let out = discover(&e, &["--output", format]);
        out.expect_code(0).expect_no_secret(&SECRETS);
        assert!(
            out.stdout.contains("[REDACTED]") || out.stdout.contains("withheld"),
            "{format}: {}",
            out.stdout
        );
    }
}

#[test]
fn wrong_keys_are_exit_3_and_nothing_is_printed_but_the_line() {
    let e = emulator();
    let out = run(
        &["discover", "--url", &e.url()],
        b"",
        &[
            ("TENABLE_ACCESS_KEY", "wrong-access"),
            ("TENABLE_SECRET_KEY", SECRET),
        ],
    );
    out.expect_code(3).expect_no_secret(&SECRETS);
    assert_read_only(&e);
}

#[test]
fn the_keeper_import_file_has_one_pam_user_per_rotatable_account_and_no_secret() {
    let e = emulator();
    let dir = std::env::temp_dir().join(format!("tr-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("import.json");
    let out = discover(
        &e,
        &[
            "--keeper-import",
            path.to_str().unwrap(),
            "--folder",
            "Tenable PAM",
        ],
    );
    out.expect_code(0).expect_no_secret(&SECRETS);
    let text = std::fs::read_to_string(&path).unwrap();
    for secret in SECRETS
        .iter()
        .chain(&["public-community", "Seeded-Passw0rd"])
    {
        assert!(!text.contains(secret), "{secret} in the import file");
    }
    let import: Value = serde_json::from_str(&text).unwrap();
    let records = import["records"].as_array().unwrap();
    let of_type = |t: &str| records.iter().filter(|r| r["$type"] == t).count();
    // Users: api-admin, alice, the formula name (bob is disabled; carol is SAML only; their
    // sign-ins were not read here, so carol counts). Credential accounts: svc-scan (two
    // credentials, one record) and root. Two key-record templates.
    assert_eq!(of_type("pamUser"), 4 + 2, "{import:#}");
    assert_eq!(of_type("login"), 2, "{import:#}");
    for r in records {
        assert_eq!(r["folders"][0]["folder"], "Tenable PAM", "{r}");
        assert!(r.get("password").is_none(), "{r}");
    }
    let svc: Vec<&Value> = records
        .iter()
        .filter(|r| r["login"] == "CORP\\svc-scan")
        .collect();
    assert_eq!(svc.len(), 1, "one record for an account in two credentials");
    assert!(
        svc[0]["title"]
            .as_str()
            .unwrap()
            .contains("AD scan, PG scan")
    );
    let keys = records
        .iter()
        .find(|r| r["title"] == "Tenable keys (credentials)")
        .unwrap();
    assert_eq!(keys["custom_fields"]["$text:tenable_target"], "credential");
    assert_eq!(
        keys["custom_fields"]["$text:tenable_credential_match"],
        "username"
    );
    assert_eq!(keys["custom_fields"]["$secret:tenable_access_key"], "");
    assert_read_only(&e);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_import_file_that_cannot_be_written_stops_the_run_before_any_request() {
    let e = emulator();
    let out = discover(&e, &["--keeper-import", "/nonexistent-dir/import.json"]);
    out.expect_code(2)
        .expect_error_line("cannot write the Keeper import file");
    assert!(e.routes_seen().is_empty(), "{:?}", e.routes_seen());
}

/// A small RFC 4180 reader: quoted cells with doubled quotes, commas, newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[test]
fn every_credential_of_a_seeded_tenant_is_listed_once_across_pages() {
    // 450 credentials: three pages of 200, the last one short; the four kinds in turn.
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        seed_credentials: 450,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let out = discover(&e, &["--output", "json"]);
    out.expect_code(0).expect_no_secret(&SECRETS);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let mut names: Vec<&str> = rows
        .iter()
        .filter(|r| r["kind"] == "credential")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 450);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 450, "a credential was listed twice");
    assert_eq!(json["counts"]["credentials"], 450);
    // SNMP (every fourth) holds a community string, not a password.
    assert_eq!(json["counts"]["not_rotatable"], 112);
    assert_eq!(json["counts"]["rotatable_as_credential"], 338);
    assert_eq!(json["counts"]["accounts_in_several_credentials"], 0);
    assert_eq!(e.request_count("GET /credentials"), 3);
}

/// A fake TVM whose `GET /users` answers `users` (raw JSON text of the list's items, gzipped),
/// for the API keys' own user an Administrator, and no managed credentials.
fn vm_listing(users: &'static str) -> super::fake_tenable::Fake {
    use super::fake_tenable::{Answer, Body};
    let body = format!("{{\"users\":[{users}]}}");
    vm_answering_users(Answer {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Body::Bytes(body.into_bytes()),
        gzip: true,
    })
}

/// [`vm_listing`] with `GET /users` answered by `users`.
fn vm_answering_users(users: super::fake_tenable::Answer) -> super::fake_tenable::Fake {
    use super::fake_tenable::{Action, Answer, Fake};
    Fake::start().script(move |req, _| {
        if req.is("GET", "/session") {
            Action::Answer(Answer::json(
                200,
                &serde_json::json!({"id": 1, "username": "api@example.com", "permissions": 64, "type": "local"}),
            ))
        } else if req.is("GET", "/users") {
            Action::Answer(users.clone())
        } else if req.is("GET", "/credentials") {
            Action::Answer(Answer::json(
                200,
                &serde_json::json!({"credentials": [], "pagination": {"total": 0}}),
            ))
        } else {
            Action::Answer(Answer::boom(404, "Not Found"))
        }
    })
}

/// The API keys, from the environment.
const KEYS: [(&str, &str); 2] = [
    ("TENABLE_ACCESS_KEY", ACCESS),
    ("TENABLE_SECRET_KEY", SECRET),
];

#[test]
fn odd_users_from_a_misbehaving_tvm_are_read_as_serde_json_reads_them() {
    // Plain users and ones that are not (escapes, a key quoted JSON-escaped, a negative id, a
    // role as text, an object of exactly 1 KiB, a nested member): every one listed, read the
    // same way, nothing of the keys printed, nothing sent but reads.
    const USERS: &str = concat!(
        r#"{"id":7,"username":"plain@example.com","type":"local","permissions":32,"enabled":true},"#,
        r#"{"id":8,"username":"b\u006fb@example.com","name":"Bob \"B\"","type":"LOCAL","permissions":"64"},"#,
        r#"{"id":-9,"username":"neg@example.com","type":"saml","enabled":false,"groups":[{"a":1}]},"#,
    );
    let fill = "x".repeat(1024 - r#"{"id":10,"username":"long@example.com","name":""}"#.len());
    let long = format!(r#"{{"id":10,"username":"long@example.com","name":"{fill}"}}"#);
    assert_eq!(long.len(), 1024);
    let quoting = format!(
        r#",{{"id":11,"username":"q@example.com","name":"{}"}}"#,
        super::fake_tenable::json_escaped(&format!("say \"{ACCESS}\""))
    );
    let users: &'static str = format!("{USERS}{long}{quoting}").leak();
    let f = vm_listing(users);
    let out = run(
        &["discover", "--url", &f.url(), "--output", "json"],
        b"",
        &KEYS,
    );
    out.expect_code(0).expect_no_secret(&SECRETS);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<&str> = rows(&json)
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "plain@example.com",
            "bob@example.com",
            "neg@example.com",
            "long@example.com",
            "q@example.com"
        ]
    );
    assert_eq!(row(&json, "bob@example.com")["display_name"], "Bob \"B\"");
    assert_eq!(row(&json, "bob@example.com")["role"], "Administrator [64]");
    assert_eq!(row(&json, "neg@example.com")["id"], "-9");
    assert_eq!(row(&json, "neg@example.com")["verdict"], "not-rotatable");
    assert_eq!(
        row(&json, "long@example.com")["display_name"]
            .as_str()
            .map(str::len),
        Some(untrusted_cap(&fill))
    );
    assert!(
        f.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        f.routes()
    );
}

#[test]
fn users_with_names_of_900_kb_are_listed_within_20_mib() {
    // A hostile or broken tenant: 100 users whose names are 900 KB each (90 MB). Listed users
    // cross to the printing thread in batches handed over at 256 KiB of text, so memory does
    // not follow the names: 16 MiB here, 22 MiB when batches went at 1 MiB (BENCHMARKS.md).
    use super::fake_tenable::{Answer, Body};
    let unit = format!(
        r#"{{"id":7,"username":"long@example.com","name":"{}","type":"local","permissions":32,"enabled":true}},"#,
        "x".repeat(900_000)
    );
    let f = vm_answering_users(Answer::streamed(
        200,
        Body::Repeat {
            prefix: br#"{"users":["#.to_vec(),
            unit: unit.into_bytes(),
            times: Some(100),
            suffix: br#"{"id":8,"username":"last@example.com"}]}"#.to_vec(),
        },
    ));
    let (out, peak) = run_measured(
        &["discover", "--url", &f.url(), "--output", "json"],
        b"",
        &KEYS,
    );
    out.expect_code(0).expect_no_secret(&SECRETS);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows(&json).len(), 101);
    if !skip_on_windows(
        "the 20 MiB bound: under wine the peak RSS GNU time sees is wine's process as well \
         (38 MiB here); the listing itself is checked",
    ) {
        assert!(peak < 20 * 1024, "peak RSS {peak} KiB");
    }
}

#[test]
fn a_malformed_user_list_then_silence_ends_discover_at_once() {
    // Read ahead on a second thread, the list's first bytes still reach the parser, and the
    // run ends on its answer (exit 6) without waiting for the silent connection.
    use super::fake_tenable::{Answer, Body};
    let f = vm_answering_users(Answer::streamed(
        200,
        Body::Stall {
            prefix: br#"{"users":[{"id":8,"username":"bob@example.com"}}}"#.to_vec(),
            hold: std::time::Duration::from_secs(40),
        },
    ));
    let started = std::time::Instant::now();
    let out = run(
        &["discover", "--url", &f.url(), "--output", "json"],
        b"",
        &KEYS,
    );
    out.expect_code(6).expect_no_secret(&SECRETS);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
}

/// How long `discover` shows a field of `text`: whole, or cut to the field cap with a note.
fn untrusted_cap(text: &str) -> usize {
    tenable_rotate::untrusted::field(text).len()
}

#[test]
fn a_user_named_twice_in_a_field_makes_the_list_unreadable_in_one_line() {
    // serde_json refuses a field named twice; the plain reader must not read it either.
    let f = vm_listing(r#"{"id":7,"username":"a@example.com"},{"id":8,"id":9,"username":"b"}"#);
    let out = run(&["discover", "--url", &f.url()], b"", &KEYS);
    out.expect_code(6).expect_no_secret(&SECRETS);
    out.expect_error_line("the Tenable password was not changed");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        f.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        f.routes()
    );
}

#[test]
fn bytes_that_are_not_utf8_beside_the_user_list_make_it_unreadable_in_one_line() {
    // The users are plain and whole; a string of another member is not UTF-8, which
    // serde_json skips without looking and the list streamer checks: the answer is not JSON.
    use super::fake_tenable::{Answer, Body};
    let mut body = br#"{"users":[{"id":7,"username":"a@example.com"}],"total":""#.to_vec();
    body.extend_from_slice(b"\xff\"}");
    let f = vm_answering_users(Answer {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Body::Bytes(body),
        gzip: true,
    });
    for format in ["json", "table", "csv"] {
        let out = run(
            &["discover", "--url", &f.url(), "--output", format],
            b"",
            &KEYS,
        );
        out.expect_code(6).expect_no_secret(&SECRETS);
        out.expect_error_line("the Tenable password was not changed");
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
}

#[test]
fn hostile_names_print_safely_in_the_table_and_the_csv() {
    // Table and CSV lines that need nothing done are written as they are, and every other
    // line goes through the escaping and the redactor as before: a name to cut, control and
    // bidi characters, text past ASCII, a formula, a `%`, and the keys quoted plainly and in
    // base64. Every user is listed, in printable lines, and nothing of the keys is printed.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    let names = [
        "a-long-username-that-the-table-cuts@example.com".to_owned(),
        "ctl\u{7}\u{1b}[31m@example.com".to_owned(),
        "\u{202e}moc.elpmaxe@live".to_owned(),
        "ünïcødé@example.com".to_owned(),
        "=HYPERLINK(\"http://x\")@example.com".to_owned(),
        "100%@example.com".to_owned(),
        format!("x{ACCESS}@example.com"),
        format!("{b64}@example.com"),
    ];
    let users: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            serde_json::json!({"id": 101 + i, "username": name, "name": name, "type": "local",
                               "permissions": 32, "enabled": true})
            .to_string()
        })
        .collect();
    let f = vm_listing(users.join(",").leak());
    let printable = |text: &str| {
        !text.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    };
    let table = run(&["discover", "--url", &f.url()], b"", &KEYS);
    table.expect_code(0).expect_no_secret(&SECRETS);
    for line in table.stdout.lines() {
        assert!(printable(line), "{line:?}");
        assert!(line.chars().count() <= 100, "{line:?}");
    }
    for id in 101..101 + names.len() {
        let rows = table
            .stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{id} ")));
        assert_eq!(rows.count(), 1, "{id}: {}", table.stdout);
    }
    assert!(
        table.stdout.contains("a-long-username-that-the-…"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("ünïcødé@example.com"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("100%@example.com"),
        "{}",
        table.stdout
    );

    let csv = run(
        &["discover", "--url", &f.url(), "--output", "csv"],
        b"",
        &KEYS,
    );
    csv.expect_code(0).expect_no_secret(&SECRETS);
    assert!(csv.stdout.lines().all(printable), "{}", csv.stdout);
    let rows = parse_csv(&csv.stdout);
    assert_eq!(rows.len(), 1 + names.len(), "{}", csv.stdout);
    assert!(rows.iter().all(|r| r.len() == 21), "{rows:?}");
    let name = rows[0].iter().position(|h| h == "name").unwrap();
    let shown: Vec<&str> = rows[1..].iter().map(|r| r[name].as_str()).collect();
    assert_eq!(shown[0], names[0]);
    assert_eq!(shown[3], names[3]);
    assert_eq!(shown[4], format!("'{}", names[4]));
    assert_eq!(shown[5], names[5]);
    assert!(
        f.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        f.routes()
    );
}
