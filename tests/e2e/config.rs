//! Configuration as an operator meets it: a file, environment variables, and clear errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use heard_tests::heard_binary;

#[test]
fn a_bad_config_value_stops_serve_with_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("heard.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\n[log]\nformat = \"loud\"\n").unwrap();
    let output = Command::new(heard_binary())
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("heard.toml") && stderr.contains("loud"), "{stderr}");
}

#[test]
fn an_environment_variable_overrides_the_file_and_serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("heard.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:1\"\n").unwrap();
    let mut child = Command::new(heard_binary())
        .args(["serve", "--config"])
        .arg(&config)
        .env("HEARD_LISTEN", "127.0.0.1:0")
        .env("HEARD_DATA_DIR", dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let addr = first_line.split("http://").nth(1).and_then(|rest| rest.split('/').next()).unwrap().to_owned();
    assert_ne!(addr, "127.0.0.1:1", "the environment wins over the file");
    let health = std::net::TcpStream::connect(&addr).map(|mut stream| {
        use std::io::{Read, Write};
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    });
    assert!(health.unwrap().starts_with("HTTP/1.1 200"));
    let terminated = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
    assert!(dir.path().join("data").join("log").is_dir(), "HEARD_DATA_DIR was used");
}

#[test]
fn a_bad_retention_period_stops_serve_and_retention_with_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["serve", "retention"] {
        let output = Command::new(heard_binary())
            .arg(command)
            .arg("--data")
            .arg(dir.path().join("data"))
            .env("HEARD_LISTEN", "127.0.0.1:0")
            .env("HEARD_RETENTION__FEEDBACK_NOT_SHARED_DAYS", "0")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{command}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("HEARD_RETENTION__FEEDBACK_NOT_SHARED_DAYS")
                && stderr.contains("retention.feedback_not_shared_days")
                && stderr.contains("never"),
            "{command}: {stderr}"
        );
    }
    assert!(!dir.path().join("data").join("log").exists(), "nothing was started");
}

#[test]
fn migrate_names_a_bad_store_url_without_its_password_and_migrates_a_database_once() {
    let output = Command::new(heard_binary())
        .arg("migrate")
        .env("HEARD_STORE__BACKEND", "postgres")
        .env("HEARD_STORE__URL", "postgres://heard:hunter2@127.0.0.1:notaport/heard")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("store.url") && !stderr.contains("hunter2"), "{stderr}");

    // A schema of its own in the test database (PostgreSQL at 127.0.0.1:5432, trust auth).
    let schema = heard_tests::PgSchema::new();
    let current = format!("schema version {}", heard_eventstore::postgres_backend::SCHEMA_VERSION);
    for _ in 0..2 {
        let output = Command::new(heard_binary())
            .arg("migrate")
            .env("HEARD_STORE__BACKEND", "postgres")
            .env("HEARD_STORE__URL", schema.url())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains(&current), "{stdout}");
    }
}
