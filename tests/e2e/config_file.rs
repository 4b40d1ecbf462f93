//! Settings from a `--config` file and from the environment, through the binary: a key record
//! that cannot be edited still works, a record can be left out when the file has the keys,
//! and every bad file is one clear line and exit 2 with no secret shown.

use serde_json::json;

use super::util::*;

/// A scratch directory for one test.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tr-e2e-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `text` to `name` with permission bits `mode`; returns the path.
    fn file(&self, name: &str, text: &str, mode: u32) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_sample_record_without_a_url_gets_it_from_the_config_file() {
    let e = vm_emulator(&[(USER, OLD)]);
    let dir = Scratch::new("url");
    let config = dir.file("tenable.toml", &format!("url = \"{}\"\n", e.url()), 0o644);
    // Exactly the record Keeper's Python sample reads: keys only.
    let line = payload(
        USER,
        NEW,
        OLD,
        json!([key_record(json!({})), user_record(USER, OLD)]),
    );
    run(&["--config", &config], line.as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    assert!(e.vm_password_is(USER, NEW));

    // The same through TENABLE_ROTATE_CONFIG, for wrappers that cannot pass flags.
    let back = payload(USER, OLD, NEW, json!([key_record(json!({}))]));
    run(&[], back.as_bytes(), &[("TENABLE_ROTATE_CONFIG", &config)]).expect_code(0);
    assert!(e.vm_password_is(USER, OLD));
}

#[test]
fn keys_in_a_private_config_file_replace_the_key_record() {
    let e = vm_emulator(&[(USER, OLD)]);
    let dir = Scratch::new("keys");
    let text = format!(
        "access_key = \"{ACCESS}\"\nsecret_key = \"{SECRET}\"\nurl = \"{}\"\n",
        e.url()
    );
    let private = dir.file("private.toml", &text, 0o600);
    let line = payload(USER, NEW, OLD, json!([user_record(USER, OLD)]));
    let check = run(
        &["check", "--output", "json", "--config", &private],
        line.as_bytes(),
        &[],
    );
    check.expect_code(0).expect_no_secret(&SECRETS);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["key_source"], format!("the config file '{private}'"));
    assert!(e.vm_password_is(USER, OLD), "check changed nothing");

    run(&["--config", &private], line.as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    assert!(e.vm_password_is(USER, NEW));

    if cfg!(unix)
        && !skip_on_windows(
            "a config file readable by others: Unix mode bits mean nothing to the .exe, which \
             does not check ACLs (docs/keeper-setup.md, Windows gateways)",
        )
    {
        let shared = dir.file("shared.toml", &text, 0o644);
        run(&["--config", &shared], line.as_bytes(), &[])
            .expect_code(2)
            .expect_error_line("other users can read it (mode 644); run chmod 600")
            .expect_no_secret(&SECRETS);
    }
}

#[test]
fn the_environment_beats_the_record_and_the_record_beats_the_file() {
    let e = vm_emulator(&[(USER, OLD)]);
    let dir = Scratch::new("precedence");
    let config = dir.file(
        "t.toml",
        "target = \"credential\"\nverify = \"login\"\n",
        0o644,
    );
    let line = |extra| payload(USER, NEW, OLD, json!([key_record(extra)]));
    let check = |extra, env: &[(&str, &str)]| {
        let r = run(
            &["check", "--output", "json", "--config", &config],
            line(extra).as_bytes(),
            env,
        );
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let url = e.url();
    // The file's target applies when the record has none...
    assert_eq!(
        check(json!({"tenable_url": url}), &[])["target"],
        "credential"
    );
    // ...the record's beats the file's...
    let record_says_user = json!({"tenable_url": url, "tenable_target": "user"});
    assert_eq!(check(record_says_user.clone(), &[])["target"], "user");
    // ...and the environment beats the record.
    let env_says = [("TENABLE_TARGET", "credential")];
    assert_eq!(check(record_says_user, &env_says)["target"], "credential");
    assert!(e.vm_password_is(USER, OLD));
}

#[test]
fn a_bad_config_file_is_one_line_and_exit_2() {
    let dir = Scratch::new("bad");
    let line = standard_payload("http://127.0.0.1:9");
    let secret_line = format!("url = \"https://x\"\nsecret_key = \"{SECRET}\n");
    let cases = [
        (
            dir.file("syntax.toml", &secret_line, 0o600),
            "is not valid TOML (line 2)",
        ),
        (
            dir.file("typo.toml", "tenable_url = \"https://x\"\n", 0o600),
            "unknown key `tenable_url`",
        ),
        (
            dir.file("type.toml", "timeout = [1]\n", 0o600),
            "`timeout` in the config file",
        ),
        (
            dir.file("value.toml", "timeout = 0\n", 0o600),
            "`timeout` in the config file",
        ),
        (
            dir.0.join("missing.toml").to_str().unwrap().to_owned(),
            "could not read the config file",
        ),
    ];
    for (path, message) in &cases {
        run(&["--config", path], line.as_bytes(), &[])
            .expect_code(2)
            .expect_error_line(message)
            .expect_no_secret(&SECRETS);
    }
}

#[test]
fn standalone_rotate_takes_security_center_from_the_config_file() {
    let e = tenable_rotate::emulator::Emulator::start(tenable_rotate::emulator::EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        sc_users: vec![("analyst".into(), OLD.into())],
        ..Default::default()
    })
    .unwrap();
    let dir = Scratch::new("sc");
    let text = format!(
        "sc_host = \"{}\"\naccess_key = \"{ACCESS}\"\nsecret_key = \"{SECRET}\"\n",
        e.url()
    );
    let config = dir.file("sc.toml", &text, 0o600);
    let stdin = format!("{NEW}\n{OLD}\n");
    let r = run(
        &["rotate", "--config", &config, "--user", "analyst"],
        stdin.as_bytes(),
        &[],
    );
    r.expect_code(0).expect_no_secret(&SECRETS);
    assert!(r.stdout.contains("Security Center"), "{r:#?}");
    assert!(e.sc_password_is("analyst", NEW));
}

#[test]
fn half_a_key_pair_without_a_key_record_is_named_as_such() {
    let line = payload(USER, NEW, OLD, json!([user_record(USER, OLD)]));
    run(&[], line.as_bytes(), &[("TENABLE_SECRET_KEY", SECRET)])
        .expect_code(2)
        .expect_error_line(
            "the environment gives `TENABLE_SECRET_KEY` but not `TENABLE_ACCESS_KEY`",
        )
        .expect_no_secret(&SECRETS);
}
