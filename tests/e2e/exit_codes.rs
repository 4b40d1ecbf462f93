//! Every exit code, 0 to 8, reached from the binary's outside (issue 15, item 4), each with
//! `--output json` too: the object's `exit_code` equals the process's and `password_state` is
//! present. Each case names the contract's reason for its code (/work/plan/contract.md), and
//! the harness checks every run for secrets.
//!
//! | code | cases |
//! |---|---|
//! | 0 | changed |
//! | 1 | a panic, through the debug-only `TENABLE_ROTATE_TEST_PANIC` hook (inert in release) |
//! | 2 | an undecodable payload, a CA file that is not PEM, a CA file that does not exist |
//! | 3 | TVM 401 (keys), SC error code 12 (keys), TVM 403 rights on the change, SC rights message |
//! | 4 | no such user |
//! | 5 | the change refused by policy |
//! | 6 | Tenable unreachable; a 3xx redirect on a read and on the change, never followed |
//! | 7 | `tenable_verify = login` with a password that does not log in, or whose login does not complete; a partial credential run with an unclear answer |
//! | 8 | a partial credential run whose set-back was refused (and `keep`, in `rotate_credential`) |
//!
//! A run refused part way whose changed credentials were all set back (exit 3, each
//! credential's result) is `rotate_credential::a_refused_credential_sets_back_those_already_changed`.

use serde_json::{Value, json};
use tenable_rotate::emulator::{ApiRole, CredentialKind, CredentialSeed, Emulator, EmulatorConfig};

use super::fake_tenable::*;
use super::util::*;

/// Runs `line` twice, plain and with `--output json`; both must end in `code`. The plain run's
/// stderr must be one `tenable-rotate: ` line containing `fragment` (for a failure); the JSON
/// run's object must carry `exit_code` = `code` and `password_state` = `state`. Returns the
/// object. `setup` makes a fresh target for each run (state changes between runs).
fn both_ways(
    setup: &(dyn Fn() -> (String, Vec<(String, String)>) + Sync),
    code: i32,
    fragment: &str,
    state: &str,
) -> Value {
    // The two runs are independent (each gets a fresh target), so they run side by side: the
    // slow ones (an unreachable Tenable backs off for seconds) then cost one wait, not two.
    let run_with = |args: &[&str]| {
        let (line, env) = setup();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(args, line.as_bytes(), &env)
    };
    let (plain, json_run) = std::thread::scope(|s| {
        let json_run = s.spawn(|| run_with(&["--output", "json"]));
        let plain = run_with(&[]);
        (plain, json_run.join().expect("the JSON run's thread"))
    });
    plain.expect_code(code);
    if code == 0 {
        assert!(plain.stderr.is_empty(), "{plain:#?}");
        assert!(plain.stdout.contains(fragment), "{plain:#?}");
    } else {
        plain.expect_error_line(fragment);
        assert!(plain.stdout.is_empty(), "{plain:#?}");
    }
    json_run.expect_code(code);
    let v: Value = serde_json::from_str(json_run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {json_run:#?}"));
    assert_eq!(
        v["exit_code"].as_i64(),
        Some(i64::from(json_run.code)),
        "{json_run:#?}"
    );
    assert_eq!(v["password_state"], state, "{json_run:#?}");
    if code != 0 {
        assert!(
            v["error"].as_str().is_some_and(|e| e.contains(fragment)),
            "{json_run:#?}"
        );
    }
    v
}

/// An emulator that serves until the test process ends (a `setup` closure returns only the
/// line, and a dropped emulator stops).
fn serving(e: Emulator) -> &'static Emulator {
    Box::leak(Box::new(e))
}

fn no_env(line: String) -> (String, Vec<(String, String)>) {
    (line, Vec::new())
}

fn sc_user_line(url: &str) -> String {
    payload(
        USER,
        NEW,
        OLD,
        json!([
            key_record(json!({"tenable_sc_host": url})),
            user_record(USER, OLD)
        ]),
    )
}

#[test]
fn exit_0_changed() {
    both_ways(
        &|| {
            no_env(standard_payload(
                &serving(vm_emulator(&[(USER, OLD)])).url(),
            ))
        },
        0,
        "changed the password",
        "changed",
    );
}

// ---- 1: a panic ----

/// Whether the binary under test is a debug build (the panic hook is compiled in): the one
/// cargo built for this test run has the test's profile; `TENABLE_ROTATE_TEST_BIN` (CI's
/// static release build) is a debug build only if it lives under a `debug` directory.
fn binary_is_debug() -> bool {
    match std::env::var("TENABLE_ROTATE_TEST_BIN") {
        Ok(path) => path.contains("/debug/"),
        Err(_) => cfg!(debug_assertions),
    }
}

#[test]
fn exit_1_a_panic_is_one_safe_line_and_the_hook_is_inert_in_release() {
    let e = vm_emulator(&[(USER, OLD)]);
    let line = standard_payload(&e.url());
    let panic = [("TENABLE_ROTATE_TEST_PANIC", "1")];
    let r = run(&[], line.as_bytes(), &panic);
    if binary_is_debug() {
        r.expect_code(1)
            .expect_error_line("internal error at src/main.rs:");
        assert!(
            r.stderr.contains("the Tenable password state is not known"),
            "{r:#?}"
        );
        assert!(
            !r.stderr.contains("TENABLE_ROTATE_TEST_PANIC is set"),
            "the panic's message is never printed: {r:#?}"
        );
        assert!(r.stdout.is_empty(), "{r:#?}");
        assert!(e.vm_password_is(USER, OLD));
        assert_eq!(e.request_count("GET /users"), 0, "nothing was sent");
    } else {
        // Release: the variable does nothing, the run is a normal rotation.
        r.expect_code(0);
        assert!(e.vm_password_is(USER, NEW));
    }
}

#[test]
fn exit_1_a_panic_with_json_output_prints_one_json_object() {
    // The machine-readable contract holds on every exit: a panic with `--output json` must
    // still print `{"exit_code": 1, "password_state": "unknown", ...}` on stdout.
    if !binary_is_debug() {
        return;
    }
    let e = vm_emulator(&[(USER, OLD)]);
    let r = run(
        &["--output", "json"],
        standard_payload(&e.url()).as_bytes(),
        &[("TENABLE_ROTATE_TEST_PANIC", "1")],
    );
    r.expect_code(1);
    let v: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|err| panic!("a panic leaves no JSON object on stdout ({err}): {r:#?}"));
    assert_eq!(v["exit_code"], 1, "{r:#?}");
    assert_eq!(v["password_state"], "unknown", "{r:#?}");
}

// ---- 2: bad input or configuration ----

#[test]
fn exit_2_an_undecodable_payload() {
    both_ways(
        &|| no_env("@@@@ garbage from the gateway @@@@\n".into()),
        2,
        "standard input is not base64",
        "not-changed",
    );
}

#[test]
fn exit_2_a_ca_file_that_is_not_pem() {
    let ca = temp_path("bad-ca");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let ca_path = ca.to_str().unwrap().to_owned();
    // The CA file is read before any connection; nothing need listen.
    let v = both_ways(
        &|| {
            (
                standard_payload("https://127.0.0.1:9"),
                vec![("TENABLE_CA_FILE".into(), ca_path.clone())],
            )
        },
        2,
        "(TENABLE_CA_FILE) is not usable",
        "not-changed",
    );
    assert_eq!(v["outcome"], "bad-input");
    let _ = std::fs::remove_file(ca);
}

#[test]
fn exit_2_a_ca_file_that_does_not_exist() {
    let missing = temp_path("missing-ca");
    let path = missing.to_str().unwrap().to_owned();
    both_ways(
        &|| {
            (
                standard_payload("https://127.0.0.1:9"),
                vec![("TENABLE_CA_FILE".into(), path.clone())],
            )
        },
        2,
        "(TENABLE_CA_FILE) is not usable",
        "not-changed",
    );
}

// ---- 3: keys refused or rights lacking ----

#[test]
fn exit_3_tvm_refuses_the_keys_with_401() {
    both_ways(
        &|| {
            let e = Emulator::start(EmulatorConfig {
                access_key: "another-access-key".into(),
                secret_key: "another-secret-key".into(),
                users: vec![(USER.into(), OLD.into())],
                ..EmulatorConfig::default()
            })
            .unwrap();
            no_env(standard_payload(&serving(e).url()))
        },
        3,
        "refused the API keys",
        "not-changed",
    );
}

#[test]
fn exit_3_sc_error_code_12_is_the_keys() {
    let setup = || {
        let f = Fake::start().with_sc_user("7", USER, OLD).script(|req, _| {
            if req.is("PATCH", "/rest/user/") {
                Action::Answer(Answer::sc_error(
                    403,
                    12,
                    "This request contains an invalid token.",
                ))
            } else {
                Action::Default
            }
        });
        let line = sc_user_line(&f.url());
        // The fake serves until the test process ends.
        std::mem::forget(f);
        no_env(line)
    };
    both_ways(&setup, 3, "refused the API keys", "not-changed");
}

#[test]
fn exit_3_a_tvm_rights_refusal_on_the_change() {
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![(USER.into(), OLD.into())],
        api_role: ApiRole::Basic,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let line = standard_payload(&e.url());
    both_ways(&|| no_env(line.clone()), 3, "HTTP 403", "not-changed");
    assert!(e.vm_password_is(USER, OLD));
    assert_eq!(
        e.request_count("POST /session"),
        0,
        "no login after a refusal"
    );
}

#[test]
fn exit_3_an_sc_rights_message() {
    // A Security Analyst may not change another user's password: 403, code 146, a
    // "permission" message.
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        sc_users: vec![(USER.into(), OLD.into())],
        api_role: ApiRole::Standard,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let line = sc_user_line(&e.url());
    both_ways(&|| no_env(line.clone()), 3, "permission", "not-changed");
    assert!(e.sc_password_is(USER, OLD));
    assert_eq!(
        e.request_count("POST /rest/token"),
        0,
        "no login after a refusal"
    );
}

// ---- 4, 5, 6 ----

#[test]
fn exit_4_no_such_user() {
    let e = vm_emulator(&[("someone-else@example.com", OLD)]);
    let line = standard_payload(&e.url());
    both_ways(&|| no_env(line.clone()), 4, "no Tenable", "not-changed");
}

#[test]
fn exit_5_the_change_refused_by_policy() {
    let e = vm_emulator(&[(USER, OLD)]);
    let weak = "weak \"pw\\%+/é";
    let line = user_payload(&e.url(), weak, OLD);
    both_ways(&|| no_env(line.clone()), 5, "not changed", "not-changed");
    assert!(e.vm_password_is(USER, OLD));
}

#[test]
fn exit_6_tenable_unreachable() {
    let line = standard_payload(UNREACHABLE_URL);
    both_ways(&|| no_env(line.clone()), 6, "not changed", "not-changed");
}

// ---- redirects are never followed ----

/// A second fake that must receive nothing: the redirect's target.
fn redirect_target() -> Fake {
    Fake::start().with_vm_user(7, USER, OLD)
}

#[test]
fn exit_6_a_302_on_the_user_list_is_not_followed_and_no_key_leaves() {
    let elsewhere = redirect_target();
    let to = format!("{}/users", elsewhere.url());
    let f = Fake::start()
        .with_vm_user(7, USER, OLD)
        .script(move |req, _| {
            if req.is("GET", "/users") {
                Action::Answer(Answer::empty(302).header("Location", &to))
            } else {
                Action::Default
            }
        });
    let line = standard_payload(&f.url());
    both_ways(&|| no_env(line.clone()), 6, "HTTP 302", "not-changed");
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect's target received {} requests (keys included)",
        elsewhere.requests().len()
    );
    assert_eq!(f.changes(), 0);
    assert_eq!(f.vm_password(USER).as_deref(), Some(OLD));
}

#[test]
fn exit_6_a_307_on_the_change_is_not_followed_not_resent_and_proven_not_changed() {
    let elsewhere = redirect_target();
    let to = format!("{}/users/7/chpasswd", elsewhere.url());
    let f = Fake::start()
        .with_vm_user(7, USER, OLD)
        .script(move |req, _| {
            if req.is("PUT", "/users/") {
                Action::Answer(Answer::empty(307).header("Location", &to))
            } else {
                Action::Default
            }
        });
    let line = standard_payload(&f.url());
    let r = run(&["--output", "json"], line.as_bytes(), &[]);
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["exit_code"].as_i64(), Some(i64::from(r.code)), "{r:#?}");
    // A 307 is not a refusal Tenable chose; the logins prove the change did not land.
    r.expect_code(6);
    assert_eq!(v["password_state"], "not-changed", "{r:#?}");
    assert!(v["error"].as_str().unwrap().contains("307"), "{r:#?}");
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
    assert_eq!(f.count("PUT", "/users/"), 1, "sent once");
    assert_eq!(f.vm_password(USER).as_deref(), Some(OLD));
}

#[test]
fn exit_6_an_sc_302_is_not_followed() {
    let elsewhere = Fake::start().with_sc_user("7", USER, OLD);
    let to = format!("{}/rest/user", elsewhere.url());
    let f = Fake::start()
        .with_sc_user("7", USER, OLD)
        .script(move |req, _| {
            if req.is("GET", "/rest/") {
                Action::Answer(Answer::empty(302).header("Location", &to))
            } else {
                Action::Default
            }
        });
    let line = sc_user_line(&f.url());
    both_ways(&|| no_env(line.clone()), 6, "HTTP 302", "not-changed");
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
    assert_eq!(f.changes(), 0);
}

// ---- 7: unknown ----

#[test]
fn exit_7_verify_login_with_a_password_that_does_not_log_in() {
    // Tenable answers the change 200 but does not apply it: the verifying login fails.
    let f = Fake::start().with_vm_user(7, USER, OLD).script(|req, _| {
        if req.is("PUT", "/users/") {
            Action::Answer(Answer::empty(200))
        } else {
            Action::Default
        }
    });
    let line = payload(
        USER,
        NEW,
        OLD,
        json!([
            key_record(json!({"tenable_url": f.url(), "tenable_verify": "login"})),
            user_record(USER, OLD)
        ]),
    );
    both_ways(&|| no_env(line.clone()), 7, "UNKNOWN", "unknown");
    assert_eq!(f.vm_password(USER).as_deref(), Some(OLD));
    run(&[], line.as_bytes(), &[])
        .expect_code(7)
        .expect_error_line("but it does not log in: the account may be locked");
}

#[test]
fn exit_7_verify_login_that_does_not_complete_says_so_not_that_the_password_fails() {
    // The change lands (200); the verifying login's connection is lost. Nothing was learnt
    // about the new password: the message must not say it does not log in.
    let e = vm_emulator(&[(USER, OLD)]);
    e.inject("drop-before@POST /session".parse().unwrap());
    let line = payload(
        USER,
        NEW,
        OLD,
        json!([
            key_record(json!({"tenable_url": e.url(), "tenable_verify": "login"})),
            user_record(USER, OLD)
        ]),
    );
    let run = run(&[], line.as_bytes(), &[]);
    run.expect_code(7)
        .expect_error_line("but the login to verify it did not complete (")
        .expect_error_line("(tenable_verify = login); the Tenable password state is UNKNOWN");
    assert!(!run.stderr.contains("does not log in"), "{run:#?}");
    assert!(e.vm_password_is(USER, NEW));
}

#[test]
fn exit_7_a_partial_credential_run_with_an_unclear_answer() {
    // The first change lands; the second gets a 503 (unclear: it cannot be read back).
    let (v, code, e) = two_credentials_for_one_account(&["delay:0", "503"]);
    assert_eq!(code, 7);
    assert_eq!(v["password_state"], "unknown", "{v}");
    assert!(v["error"].as_str().unwrap().contains("UNKNOWN"), "{v}");
    assert_eq!(
        item_results(&v),
        [("First", "set-back"), ("Second", "failed-unknown")]
    );
    // First: set, set back; Second: sent once, never again.
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 3);
    assert_eq!(
        e.vm_credential_secret("First", "password").as_deref(),
        Some(OLD)
    );
    assert_eq!(
        e.vm_credential_secret("Second", "password").as_deref(),
        Some(OLD)
    );
}

/// The panic hook's variable is no product setting: the harness does not clear it, and no
/// configuration mentions it.
#[test]
fn the_panic_variable_is_test_only() {
    assert!(!tenable_rotate::config::env::ALL.contains(&"TENABLE_ROTATE_TEST_PANIC"));
}

// ---- killed mutants (cargo-mutants over src/tenable/error.rs; SECURITY.md) ----

#[test]
fn exit_6_a_404_on_the_user_list_is_an_unusable_answer_not_a_missing_user() {
    // A 404 names no object when the read was a list (a wrong base path, a proxy's page):
    // exit 6, not "not found" (which would blame the user's name).
    let f = Fake::start().with_vm_user(7, USER, OLD).script(|req, _| {
        if req.is("GET", "/users") {
            Action::Answer(Answer::boom(404, "Not Found"))
        } else {
            Action::Default
        }
    });
    let line = standard_payload(&f.url());
    let v = both_ways(&|| no_env(line.clone()), 6, "HTTP 404", "not-changed");
    assert_eq!(v["outcome"], "unavailable");
    assert_eq!(f.changes(), 0);
}

#[test]
fn exit_6_an_id_of_the_wrong_shape_names_the_shape_tenable_uses() {
    let f = Fake::start().with_vm_user("7/../9", USER, OLD);
    let line = standard_payload(&f.url());
    both_ways(&|| no_env(line.clone()), 6, "(a number)", "not-changed");
    assert_eq!(f.changes(), 0);
}

/// Two SSH credentials, First and Second, for one account, rotated by username with
/// `--output json`; `rules` answer the credential changes in turn (emulator fault rules, one
/// request each). Returns the JSON (whose `exit_code` is checked against the process's), the
/// exit code and the emulator.
fn two_credentials_for_one_account(rules: &[&str]) -> (Value, i32, Emulator) {
    let seed = |name: &str| CredentialSeed {
        name: name.into(),
        kind: CredentialKind::Ssh,
        username: "svc-scan".into(),
        password: OLD.into(),
        domain: String::new(),
    };
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        credentials: vec![seed("First"), seed("Second")],
        ..EmulatorConfig::default()
    })
    .unwrap();
    for rule in rules {
        e.inject(format!("{rule}@PUT /credentials*1").parse().unwrap());
    }
    let line = payload(
        "svc-scan",
        NEW,
        OLD,
        json!([key_record(json!({
            "tenable_url": e.url(),
            "tenable_target": "credential",
            "tenable_credential_match": "username"
        }))]),
    );
    let r = run(&["--output", "json"], line.as_bytes(), &[]);
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["exit_code"], r.code, "{r:#?}");
    (v, r.code, e)
}

/// Each item's (name, result) in the JSON.
fn item_results(v: &Value) -> Vec<(&str, &str)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["result"].as_str().unwrap()))
        .collect()
}

#[test]
fn a_refused_set_back_is_known_and_an_unclear_one_is_unknown() {
    // First lands, Second is refused (403), and the set-back of First is refused (400): First
    // is proved still on the new password.
    let (v, code, e) = two_credentials_for_one_account(&["delay:0", "403", "400"]);
    assert_eq!(
        item_results(&v),
        [
            ("First", "set-back-refused"),
            ("Second", "failed-not-changed")
        ]
    );
    // Known: one credential on the new password, one on the old: partial, never a code that
    // means "not changed" (on which rolling the vault back would be right).
    assert_eq!(code, 8, "{v}");
    assert_eq!(v["password_state"], "partial", "{v}");
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 3);
    assert_eq!(
        e.vm_credential_secret("First", "password").as_deref(),
        Some(NEW)
    );
    assert_eq!(
        e.vm_credential_secret("Second", "password").as_deref(),
        Some(OLD)
    );
    // The set-back meets a 503 (a change is never resent): First may hold either password.
    let (v, code, e) = two_credentials_for_one_account(&["delay:0", "403", "503"]);
    assert_eq!(
        item_results(&v),
        [
            ("First", "set-back-unknown"),
            ("Second", "failed-not-changed")
        ]
    );
    assert_eq!(code, 7, "{v}");
    assert_eq!(v["password_state"], "unknown", "{v}");
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 3);
}
