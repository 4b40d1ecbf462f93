//! Tenable VM and SC user rotations through the binary, checked against the emulator's state.

use serde_json::json;

use super::util::*;

#[test]
fn rotates_a_vm_user_and_only_the_new_password_logs_in() {
    let emulator = vm_emulator(&[(USER, OLD), ("bob@example.com", "Bob-Passw0rd!2024")]);
    let run = run(&[], standard_payload(&emulator.url()).as_bytes(), &[]);
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(run.stderr.is_empty(), "{run:#?}");
    assert!(
        run.stdout
            .contains("changed the password of user 'alice@example.com'"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("Tenable Vulnerability Management"),
        "{run:#?}"
    );
    assert!(emulator.vm_password_is(USER, NEW));
    assert!(!emulator.vm_password_is(USER, OLD));
    assert!(
        emulator.vm_password_is("bob@example.com", "Bob-Passw0rd!2024"),
        "other users untouched"
    );
    assert_eq!(emulator.changes_applied("PUT /users/{id}/chpasswd"), 1);
}

#[test]
fn a_record_made_for_keepers_python_sample_works_unchanged() {
    // The sample's record has no URL field: it targets the cloud. TENABLE_URL points it here.
    let emulator = vm_emulator(&[(USER, OLD)]);
    let records = json!([
        {"uid": "CfgRecord", "title": "PAM Configuration", "pamResources": {"controllerUid": "x"}},
        {"uid": "TnbRecord", "title": "Tenable Authentication Record", "login": "", "password": "", "url": "https://cloud.tenable.com",
         "tenable_access_key": [ACCESS], "tenable_secret_key": [SECRET]},
        user_record(USER, OLD),
    ]);
    let run = run(
        &["keeper"],
        payload(USER, NEW, OLD, records).as_bytes(),
        &[("TENABLE_URL", &emulator.url())],
    );
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(emulator.vm_password_is(USER, NEW));
}

#[test]
fn a_rerun_after_success_is_already_in_sync_and_changes_nothing() {
    let emulator = vm_emulator(&[(USER, OLD)]);
    let line = standard_payload(&emulator.url());
    run(&[], line.as_bytes(), &[]).expect_code(0);
    let again = run(&[], line.as_bytes(), &[]);
    again.expect_code(0).expect_no_secret(&SECRETS);
    assert!(again.stdout.contains("already in sync"), "{again:#?}");
    assert_eq!(emulator.changes_applied("PUT /users/{id}/chpasswd"), 1);
    assert!(emulator.vm_password_is(USER, NEW));
}

#[test]
fn check_changes_nothing() {
    let emulator = vm_emulator(&[(USER, OLD)]);
    let run = run(
        &["check"],
        standard_payload(&emulator.url()).as_bytes(),
        &[],
    );
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(
        run.stdout
            .contains("would change the password of user 'alice@example.com'"),
        "{run:#?}"
    );
    assert_eq!(emulator.request_count("PUT /users/{id}/chpasswd"), 0);
    assert!(emulator.vm_password_is(USER, OLD));
}

#[test]
fn json_output_is_one_object_without_secrets() {
    let emulator = vm_emulator(&[(USER, OLD)]);
    let run = run(
        &["--output", "json"],
        standard_payload(&emulator.url()).as_bytes(),
        &[],
    );
    run.expect_code(0).expect_no_secret(&SECRETS);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    assert_eq!(v["outcome"], "success");
    assert_eq!(v["platform"], "vm");
    assert_eq!(v["items"][0]["name"], USER);
    assert_eq!(v["items"][0]["result"], "changed");
    assert_eq!(v["request_ids"].as_array().unwrap().len(), 1);
}

#[test]
fn verify_login_proves_the_new_password() {
    let emulator = vm_emulator(&[(USER, OLD)]);
    let line = payload(
        USER,
        NEW,
        OLD,
        json!([key_record(
            json!({"tenable_url": emulator.url(), "tenable_verify": "login"})
        )]),
    );
    run(&[], line.as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    assert_eq!(emulator.request_count("POST /session"), 1);
}

#[test]
fn tls_works_with_the_ca_file_and_fails_clearly_without_it() {
    let emulator =
        tenable_rotate::emulator::Emulator::start(tenable_rotate::emulator::EmulatorConfig {
            access_key: ACCESS.into(),
            secret_key: SECRET.into(),
            users: vec![(USER.into(), OLD.into())],
            tls: true,
            ..Default::default()
        })
        .unwrap();
    assert!(emulator.url().starts_with("https://"));
    let line = standard_payload(&emulator.url());

    let untrusted = run(&[], line.as_bytes(), &[]);
    untrusted
        .expect_code(6)
        .expect_error_line("TLS with localhost")
        .expect_no_secret(&SECRETS);
    assert!(
        untrusted.stderr.contains("TENABLE_CA_FILE")
            && untrusted.stderr.contains("was not changed"),
        "{untrusted:#?}"
    );
    assert!(emulator.vm_password_is(USER, OLD));

    let dir = std::env::temp_dir().join(format!("tenable-rotate-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, emulator.ca_certificate_pem().unwrap()).unwrap();
    let trusted = run(
        &[],
        line.as_bytes(),
        &[("TENABLE_CA_FILE", ca.to_str().unwrap())],
    );
    trusted.expect_code(0).expect_no_secret(&SECRETS);
    assert!(emulator.vm_password_is(USER, NEW));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rotates_a_security_center_user() {
    let emulator =
        tenable_rotate::emulator::Emulator::start(tenable_rotate::emulator::EmulatorConfig {
            access_key: ACCESS.into(),
            secret_key: SECRET.into(),
            sc_users: vec![("analyst".into(), OLD.into())],
            ..Default::default()
        })
        .unwrap();
    // Keeper's SC sample record: tenable_sc_host selects Security Center.
    let line = payload(
        "analyst",
        NEW,
        OLD,
        json!([key_record(json!({"tenable_sc_host": emulator.url()}))]),
    );
    let run = run(&[], line.as_bytes(), &[]);
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(run.stdout.contains("Tenable Security Center"), "{run:#?}");
    assert!(emulator.sc_password_is("analyst", NEW));
    assert!(!emulator.sc_password_is("analyst", OLD));
}

fn sc_emulator() -> tenable_rotate::emulator::Emulator {
    tenable_rotate::emulator::Emulator::start(tenable_rotate::emulator::EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        sc_users: vec![
            ("analyst".into(), OLD.into()),
            ("secmanager".into(), "Api-Owner-Passw0rd!".into()),
        ],
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn a_security_center_rerun_is_already_in_sync() {
    let emulator = sc_emulator();
    let line = payload(
        "analyst",
        NEW,
        OLD,
        json!([key_record(json!({"tenable_sc_host": emulator.url()}))]),
    );
    run(&[], line.as_bytes(), &[]).expect_code(0);
    let again = run(&[], line.as_bytes(), &[]);
    again.expect_code(0).expect_no_secret(&SECRETS);
    assert!(again.stdout.contains("already in sync"), "{again:#?}");
    assert_eq!(emulator.changes_applied("PATCH /rest/user/{id}"), 1);
}

#[test]
fn the_security_center_api_user_changes_its_own_password_with_current_password() {
    let emulator = sc_emulator();
    let line = payload(
        "secmanager",
        NEW,
        "Api-Owner-Passw0rd!",
        json!([key_record(json!({"tenable_sc_host": emulator.url()}))]),
    );
    run(&[], line.as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&[NEW, "Api-Owner-Passw0rd!"]);
    assert!(emulator.sc_password_is("secmanager", NEW));
}

#[test]
fn security_center_check_changes_nothing_and_bad_keys_are_exit_3() {
    let emulator = sc_emulator();
    let host = emulator.url();
    let line = payload(
        "analyst",
        NEW,
        OLD,
        json!([key_record(json!({"tenable_sc_host": host}))]),
    );
    let check = run(&["check", "--output", "json"], line.as_bytes(), &[]);
    check.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(check.stdout.trim()).unwrap();
    assert_eq!(
        (
            v["platform"].as_str(),
            v["items"][0]["result"].as_str(),
            v["items"][0]["id"].as_str()
        ),
        (Some("sc"), Some("would-change"), Some("2"))
    );
    assert_eq!(emulator.request_count("PATCH /rest/user/{id}"), 0);

    let bad = payload(
        "analyst",
        NEW,
        OLD,
        json!([key_record(
            json!({"tenable_sc_host": host, "tenable_access_key": "nope"})
        )]),
    );
    run(&[], bad.as_bytes(), &[])
        .expect_code(3)
        .expect_error_line("Tenable Security Center refused the API keys");
}
