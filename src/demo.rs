//! `tenable-rotate demo`: one rotation on the built-in emulator, through the production path.
//!
//! It starts the emulator with a demo user, builds the payload exactly as the Keeper Gateway
//! would (base64 JSON with base64 `records`, the key record titled as in Keeper's sample),
//! runs the same `app::keeper` function as the `keeper` subcommand, then proves the new
//! password logs in and the old one does not, and shows that a re-run is a no-op.
//! Demo passwords are generated and never printed, like real ones.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::app::{self, RunContext};
use crate::config::ConfigError;
use crate::config::{Environment, Overrides};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::error::Error;
use crate::rotate::{ItemResult, Mode, RotateError};
use crate::secret::{Redactor, Secret};
use crate::tenable::{ApiKeys, VmClient};
use crate::transport::{BaseUrl, TransportConfig};

const DEMO_USER: &str = "alice@example.com";

/// A password that meets Tenable's policy: 20 characters with every class.
pub fn generate_password() -> String {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!@#%^*()-_=+[]{}:,.?",
    ];
    let mut out: Vec<u8> = SETS
        .iter()
        .map(|set| set[fastrand::usize(..set.len())])
        .collect();
    while out.len() < 20 {
        let set = SETS[fastrand::usize(..SETS.len())];
        out.push(set[fastrand::usize(..set.len())]);
    }
    fastrand::shuffle(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Builds the one stdin line the Keeper Gateway sends.
pub fn gateway_payload(
    user: &str,
    new_password: &str,
    old_password: &str,
    records: &serde_json::Value,
) -> String {
    let payload = json!({
        "providerRecordUid": "demoPamConfigurationUid",
        "resourceRecordUid": "",
        "userRecordUid": "demoPamUserRecordUid00",
        "newPassword": new_password,
        "oldPassword": old_password,
        "user": user,
        "records": STANDARD.encode(records.to_string()),
    });
    format!("{}\n", STANDARD.encode(payload.to_string()))
}

/// Runs the demo, printing each step to `out`.
pub fn run(out: &mut dyn Write) -> Result<(), Error> {
    let old_password = generate_password();
    let new_password = generate_password();
    let (access_key, secret_key) = (
        format!("{:064x}", fastrand::u128(..)),
        format!("{:064x}", fastrand::u128(..)),
    );
    let emulator = Emulator::start(EmulatorConfig {
        access_key: access_key.clone(),
        secret_key: secret_key.clone(),
        users: vec![(DEMO_USER.to_owned(), old_password.clone())],
        seed_users: 1000,
        ..EmulatorConfig::default()
    })
    .map_err(Error::Emulator)?;
    let mut say = |line: String| {
        let _ = writeln!(out, "{line}");
    };
    say(format!(
        "1. Started the Tenable Vulnerability Management emulator at {} (1 001 users).",
        emulator.url()
    ));

    let records = json!([
        {"uid": "demoPamConfigurationUid", "title": "Demo PAM Configuration", "pamResources": {"controllerUid": "demoGateway"}},
        {"uid": "demoTenableKeysRecord0", "title": "Tenable Authentication Record", "login": "", "password": "",
         "tenable_access_key": access_key, "tenable_secret_key": secret_key, "tenable_url": emulator.url()},
        {"uid": "demoPamUserRecordUid00", "title": "Tenable user alice", "login": DEMO_USER, "password": old_password},
    ]);
    let line = gateway_payload(DEMO_USER, &new_password, &old_password, &records);
    say(format!(
        "2. Built the Keeper Gateway payload for '{DEMO_USER}': {} bytes of base64, records attached: 'Demo PAM Configuration', 'Tenable Authentication Record', 'Tenable user alice'.",
        line.len()
    ));

    let env = Environment::default();
    let mut ctx = RunContext::default();
    let report = app::keeper(
        std::io::Cursor::new(line.clone().into_bytes()),
        &env,
        None,
        &Overrides::default(),
        Mode::Apply,
        &mut ctx,
    )?;
    say(format!(
        "3. Ran the rotation exactly as the gateway does (`tenable-rotate keeper`): {} in {} ms.",
        report.summary(),
        report.duration.as_millis()
    ));

    // Prove it the way a person would: log in (POST /session) with each password.
    let client = VmClient::new(
        BaseUrl::parse(&emulator.url()).map_err(ConfigError::from)?,
        &ApiKeys {
            access_key: Secret::from(access_key.as_str()),
            secret_key: Secret::from(secret_key.as_str()),
        },
        &TransportConfig::default(),
        Redactor::default(),
    )
    .map_err(RotateError::before_change)?;
    let logs_in = |p: &str| {
        client
            .password_logs_in(DEMO_USER, &Secret::from(p))
            .map_err(|e| Error::from(RotateError::before_change(e)))
    };
    let new_ok = logs_in(&new_password)?;
    let old_ok = logs_in(&old_password)?;
    say(format!(
        "4. Logged in to Tenable as '{DEMO_USER}' (POST /session): the new password {} and the old one {}.",
        if new_ok { "logs in" } else { "does NOT log in" },
        if old_ok {
            "still logs in"
        } else {
            "no longer does"
        }
    ));

    let again = app::keeper(
        std::io::Cursor::new(line.clone().into_bytes()),
        &env,
        None,
        &Overrides::default(),
        Mode::Apply,
        &mut RunContext::default(),
    )?;
    let in_sync = again
        .items
        .iter()
        .all(|i| i.result == ItemResult::AlreadyInSync);
    say(format!(
        "5. Ran the same payload again, as Keeper's \"Re-run On Post Rotation Fail\" would: {}.",
        if in_sync {
            "already in sync, nothing changed, exit 0"
        } else {
            "unexpected result"
        }
    ));
    if !(new_ok && !old_ok && in_sync) {
        return Err(Error::Usage(
            "the demo rotation did not leave the emulator in the expected state (a bug)".into(),
        ));
    }
    say("Done: the Tenable password follows the Keeper rotation.".to_owned());
    Ok(())
}
