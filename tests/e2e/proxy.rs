//! HTTPS through a proxy: a minimal CONNECT proxy on loopback, `HTTPS_PROXY` pointing at it,
//! TLS to the emulator tunnelled through; `NO_PROXY` bypasses it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use tenable_rotate::emulator::{Emulator, EmulatorConfig};

use super::util::*;

/// Starts a CONNECT-only proxy; returns its address and the targets it was asked for.
fn connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || tunnel(client, &log));
        }
    });
    (addr, seen)
}

fn tunnel(mut client: TcpStream, log: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let target = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    log.lock().unwrap().push(target.clone());
    let Ok(upstream) = TcpStream::connect(target.replace("localhost", "127.0.0.1")) else {
        return;
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut c_read, mut u_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let forward = std::thread::spawn(move || std::io::copy(&mut c_read, &mut u_write));
    let (mut u_read, mut c_write) = (upstream, client);
    let _ = std::io::copy(&mut u_read, &mut c_write);
    let _ = forward.join();
}

#[test]
fn https_goes_through_the_proxy_and_no_proxy_bypasses_it() {
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![
            (USER.into(), OLD.into()),
            ("bob@example.com".into(), OLD.into()),
        ],
        tls: true,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("tenable-rotate-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, e.ca_certificate_pem().unwrap()).unwrap();
    let (proxy, seen) = connect_proxy();
    let proxy_url = format!("http://{proxy}");
    let env = [
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("TENABLE_CA_FILE", ca.to_str().unwrap()),
    ];

    run(&[], standard_payload(&e.url()).as_bytes(), &env)
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    let port = e.local_addr().port();
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|t| t == &format!("localhost:{port}")),
        "{:?}",
        seen.lock().unwrap()
    );
    assert!(e.vm_password_is(USER, NEW));

    seen.lock().unwrap().clear();
    let bob = payload(
        "bob@example.com",
        NEW,
        OLD,
        serde_json::json!([key_record(serde_json::json!({"tenable_url": e.url()}))]),
    );
    run(
        &[],
        bob.as_bytes(),
        &[env[0], env[1], ("NO_PROXY", "localhost")],
    )
    .expect_code(0);
    assert!(
        seen.lock().unwrap().is_empty(),
        "NO_PROXY bypasses the proxy"
    );
    assert!(e.vm_password_is("bob@example.com", NEW));
    let _ = std::fs::remove_dir_all(dir);
}
