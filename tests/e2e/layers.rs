//! Each layer redacts what it passes up. The program's printer redacts every line it writes,
//! so a layer that forgot to would not show from outside; these tests read a rotation's error
//! as the library returns it, before the printer sees it (defence in depth: the text may also
//! reach an audit line or a caller of the library).

use tenable_rotate::config::{Settings, Target};
use tenable_rotate::emulator::{Emulator, EmulatorConfig};
use tenable_rotate::rotate::{self, Mode, Passwords};
use tenable_rotate::secret::Secret;
use tenable_rotate::tenable::{ApiKeys, Platform};
use tenable_rotate::transport::{BaseUrl, TransportConfig};

use super::util::{ACCESS, OLD, SECRET, USER};

/// A password the emulator refuses as too weak, and quotes back when it echoes.
const WEAK: &str = "weak-pass";

fn settings(url: &str) -> Settings {
    Settings {
        platform: Platform::Vm,
        base_url: BaseUrl::parse(url).unwrap(),
        keys: ApiKeys {
            access_key: Secret::from(ACCESS),
            secret_key: Secret::from(SECRET),
        },
        key_source: "test".into(),
        target: Target::User(USER.into()),
        target_explicit: true,
        verify_login: false,
        restore_on_partial_failure: true,
        transport: TransportConfig::default(),
    }
}

#[test]
fn a_rotation_error_holds_no_echoed_password_before_the_printer_redacts() {
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![(USER.into(), OLD.into())],
        echo_submitted: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let passwords = Passwords {
        new: Secret::from(WEAK),
        old: Secret::from(OLD),
    };
    let error = rotate::run(&settings(&e.url()), &passwords, Mode::Apply)
        .expect_err("a weak password is refused");
    let text = format!("{error} {error:?}");
    // Tenable's message is shown (it says why), with the password it quoted taken out.
    assert!(text.contains("[REDACTED]"), "{text}");
    assert!(!text.contains(WEAK), "{text}");
    assert!(e.vm_password_is(USER, OLD));
}
