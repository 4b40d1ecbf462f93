//! The machine interface (`tenable-rotate request`): one JSON request on stdin with every
//! setting and secret, one JSON result on stdout, the exit status from the same table.

use serde_json::{Value, json};
use tenable_rotate::emulator::{Emulator, EmulatorConfig};

use super::util::*;

fn request(body: &Value) -> (Run, Value) {
    let run = run(&["request"], body.to_string().as_bytes(), &[]);
    let result: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {run:#?}"));
    assert_eq!(
        result["exit_code"].as_i64(),
        Some(i64::from(run.code)),
        "exit_code equals the process's: {run:#?}"
    );
    run.expect_no_secret(&SECRETS);
    (run, result)
}

fn base(e: &Emulator, operation: &str) -> Value {
    json!({
        "operation": operation,
        "url": e.url(),
        "user": USER,
        "access_key": ACCESS,
        "secret_key": SECRET,
        "target": "user",
        "new_password": NEW,
        "old_password": OLD,
    })
}

#[test]
fn rotate_then_rollback_a_user_and_prove_each() {
    let e = vm_emulator(&[(USER, OLD)]);
    let (_, result) = request(&base(&e, "rotate"));
    assert_eq!(result["operation"], "rotate");
    assert_eq!(result["password_state"], "changed");
    assert!(e.vm_password_is(USER, NEW));
    let logins_before = e.request_count("POST /session");
    let (run, result) = request(&base(&e, "rollback"));
    run.expect_code(0);
    assert_eq!(result["operation"], "rollback", "{run:#?}");
    assert_eq!(result["mode"], "rollback");
    assert_eq!(result["password_state"], "changed");
    assert!(e.vm_password_is(USER, OLD), "the prior password is back");
    // A rollback is proven by a login with the prior password.
    assert_eq!(e.request_count("POST /session"), logins_before + 1);
}

#[test]
fn check_changes_nothing() {
    let e = vm_emulator(&[(USER, OLD)]);
    let (run, result) = request(&base(&e, "check"));
    run.expect_code(0);
    assert_eq!(result["password_state"], "not-changed");
    assert_eq!(result["items"][0]["result"], "would-change");
    assert!(e.vm_password_is(USER, OLD));
}

#[test]
fn credentials_on_security_center_and_the_ca_as_pem_text() {
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        sc_credentials: vec![
            "windows:SC AD scan:CORP\\svc:Old-Passw0rd!2024"
                .parse()
                .unwrap(),
        ],
        tls: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let mut body = base(&e, "rotate");
    body["url"] = Value::Null;
    body["sc_host"] = json!(e.url());
    body["target"] = json!("credential");
    body["credential_name"] = json!("SC AD scan");
    body["ca_pem"] = json!(e.ca_certificate_pem().unwrap());
    let (run, result) = request(&body);
    run.expect_code(0);
    assert_eq!(result["platform"], "sc");
    assert_eq!(result["items"][0]["result"], "changed");
    assert_eq!(
        e.sc_credential_secret("SC AD scan", "password").as_deref(),
        Some(NEW)
    );
}

#[test]
fn a_bad_request_is_exit_2_and_never_quotes_a_value() {
    let e = vm_emulator(&[(USER, OLD)]);
    let mut body = base(&e, "rotate");
    body["new_password"] = json!(12345);
    let (run, result) = request(&body);
    run.expect_code(2).expect_error_line("wrong type");
    assert_eq!(result["operation"], Value::Null);
    let mut body = base(&e, "rotate");
    body["tenable_targt"] = json!("user");
    request(&body)
        .0
        .expect_code(2)
        .expect_error_line("unknown field");
    let cut = super::util::run(&["request"], b"this is not json", &[]);
    cut.expect_code(2).expect_error_line("not valid JSON");
    let _: Value = serde_json::from_str(cut.stdout.trim()).expect("still one JSON object");
    let mut body = base(&e, "rotate");
    body["new_password"] = Value::Null;
    request(&body)
        .0
        .expect_code(2)
        .expect_error_line("no new_password");
    assert!(e.vm_password_is(USER, OLD));
}

#[test]
fn keys_refused_are_exit_3() {
    let e = vm_emulator(&[(USER, OLD)]);
    let mut body = base(&e, "rotate");
    body["secret_key"] = json!("0000000000000000000000000000000000000000000000000000000000000000");
    let (run, result) = request(&body);
    run.expect_code(3);
    assert_eq!(result["password_state"], "not-changed");
}
