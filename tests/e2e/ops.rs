//! The ways to run Heard that live outside cargo (the Dockerfile, `ops/compose*.yaml`,
//! `ops/heard.service`), held to the real binary and server: the image's command starts Heard,
//! its health check passes on a ready server and fails on a dead port, every health check
//! names an endpoint the server answers, and every `HEARD_…` setting they give (or suggest in
//! a comment) is one the configuration loader accepts. `ops/check` lints the same files.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use heard::Settings;
use heard_tests::{heard_binary, spawn_app, workspace_root};

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The last stage of the Dockerfile: the image that runs.
#[derive(Debug, Default)]
struct Image {
    env: Vec<(String, String)>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    volumes: Vec<String>,
    exposed: Vec<String>,
    copies: Vec<(String, String)>,
}

impl Image {
    fn parse(text: &str) -> Image {
        let mut image = Image::default();
        let mut logical = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(continued) = line.strip_suffix('\\') {
                logical.push_str(continued);
                logical.push(' ');
                continue;
            }
            logical.push_str(line);
            let instruction = std::mem::take(&mut logical);
            let (keyword, rest) = instruction.split_once(' ').unwrap_or((&instruction, ""));
            let rest = rest.trim();
            let json = |text: &str| -> Vec<String> {
                serde_json::from_str(text).unwrap_or_else(|error| panic!("not a JSON array: {text}: {error}"))
            };
            match keyword {
                "FROM" => image = Image::default(),
                "ENV" => image.env.extend(rest.split_whitespace().map(|pair| {
                    let (key, value) = pair.split_once('=').expect("ENV KEY=VALUE");
                    (key.to_owned(), value.to_owned())
                })),
                "ENTRYPOINT" => image.entrypoint = json(rest),
                "CMD" => image.cmd = json(rest),
                "HEALTHCHECK" => {
                    let (_, command) = rest.split_once("CMD ").expect("HEALTHCHECK … CMD […]");
                    image.healthcheck = json(command);
                }
                "VOLUME" => image.volumes = json(rest),
                "EXPOSE" => image.exposed = rest.split_whitespace().map(str::to_owned).collect(),
                "COPY" if !rest.starts_with("--") => {
                    let parts: Vec<&str> = rest.split_whitespace().collect();
                    if let [source, destination] = parts.as_slice() {
                        image.copies.push(((*source).to_owned(), (*destination).to_owned()));
                    }
                }
                _ => {}
            }
        }
        image
    }

    fn env(&self, key: &str) -> &str {
        self.env.iter().find(|(name, _)| name == key).map_or_else(|| panic!("the image sets no {key}"), |(_, v)| v)
    }
}

/// Every `HEARD_…` variable a compose file or the unit sets, or suggests in a comment, with any
/// `${…}` interpolation replaced by a placeholder.
fn heard_variables(text: &str) -> Vec<(String, String)> {
    let mut variables = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches('#').trim();
        let line = line.strip_prefix("Environment=").unwrap_or(line);
        if !line.starts_with("HEARD_") {
            continue;
        }
        let Some((key, value)) = line.split_once(": ").or_else(|| line.split_once('=')) else { continue };
        let mut value = value.trim().trim_matches('"').to_owned();
        while let (Some(start), Some(end)) = (value.find("${"), value.find('}')) {
            value.replace_range(start..=end, "placeholder");
        }
        variables.push((key.trim().to_owned(), value));
    }
    variables
}

/// The commands of a compose file's `test: [CMD, bash, -c, >- …]` health checks, folded as
/// YAML folds them, with compose's `$$` as the `$` the container sees.
fn compose_health_commands(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut commands = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.trim() != "- >-" || index == 0 || lines.get(index - 1).map(|line| line.trim()) != Some("- -c") {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let folded: Vec<&str> = lines
            .iter()
            .skip(index + 1)
            .take_while(|next| next.len() - next.trim_start().len() > indent && !next.trim().is_empty())
            .map(|next| next.trim())
            .collect();
        commands.push(folded.join(" ").replace("$$", "$"));
    }
    commands
}

/// The path a health-check command GETs.
fn path_of(command: &str) -> String {
    let after = command.split("GET ").nth(1).unwrap_or_else(|| panic!("no GET in {command}"));
    after.split_whitespace().next().expect("a path").to_owned()
}

fn bash(command: &str, env: &[(&str, &str)]) -> bool {
    let mut bash = Command::new("bash");
    bash.arg("-c").arg(command).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    for (key, value) in env {
        bash.env(key, value);
    }
    bash.status().expect("bash runs").success()
}

/// A local port nothing listens on (a listener's, once it is closed).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn the_image_command_starts_heard_and_its_health_check_passes_then_sigterm_stops_it() {
    let image = Image::parse(&read("Dockerfile"));
    assert_eq!(image.entrypoint, ["heard"], "{image:?}");
    assert_eq!(image.volumes, [image.env("HEARD_DATA_DIR")], "the data directory is the volume");
    let port = image.env("HEARD_LISTEN").rsplit(':').next().unwrap().to_owned();
    assert_eq!(image.exposed, [port], "the image exposes the port Heard listens on");
    let [shell, ..] = image.healthcheck.as_slice() else { panic!("no HEALTHCHECK") };
    assert_eq!(shell, "bash", "{:?}", image.healthcheck);
    let check = image.healthcheck.last().expect("a command").clone();

    // CMD as the image runs it: files it names are the ones COPY put there.
    let args: Vec<String> = image
        .cmd
        .iter()
        .map(|arg| {
            image
                .copies
                .iter()
                .find(|(_, destination)| destination == arg)
                .map_or_else(|| arg.clone(), |(source, _)| workspace_root().join(source).display().to_string())
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut heard = Command::new(heard_binary());
    heard.args(&args).stdout(Stdio::piped()).stderr(Stdio::null());
    for (key, value) in &image.env {
        heard.env(key, value);
    }
    heard.env("HEARD_DATA_DIR", dir.path().join("data")).env("HEARD_LISTEN", "127.0.0.1:0");
    let mut child = heard.spawn().unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let addr = first_line.split("http://").nth(1).and_then(|rest| rest.split('/').next()).unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(30);
    while !bash(&check, &[("HEARD_LISTEN", &addr)]) {
        assert!(Instant::now() < deadline, "the image's health check never passed on {addr}: {check}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dead = format!("127.0.0.1:{}", closed_port());
    assert!(!bash(&check, &[("HEARD_LISTEN", &dead)]), "the health check fails when nothing answers");

    let terminated = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "heard exits 0 after SIGTERM: {status:?}");
    assert!(dir.path().join("data").join("secret.key").is_file(), "HEARD_DATA_DIR was used");
}

#[tokio::test]
async fn every_health_check_in_ops_names_an_endpoint_the_server_answers_and_passes_on_it() {
    let image = Image::parse(&read("Dockerfile"));
    let app = spawn_app().await;
    let port = app.addr.port().to_string();
    let mut checks = vec![(
        "Dockerfile".to_owned(),
        image.healthcheck.last().expect("a HEALTHCHECK").clone(),
        vec![("HEARD_LISTEN".to_owned(), app.addr.to_string())],
    )];
    for file in ["ops/compose.yaml", "ops/compose.postgres.yaml"] {
        let commands = compose_health_commands(&read(file));
        assert!(!commands.is_empty(), "{file} has a health check on Heard");
        for command in commands {
            let command = command.replace("/dev/tcp/127.0.0.1/8080", &format!("/dev/tcp/127.0.0.1/{port}"));
            checks.push((file.to_owned(), command, Vec::new()));
        }
    }
    for (file, command, env) in checks {
        let path = path_of(&command);
        assert!(path == "/readyz" || path == "/healthz", "{file}: {path}");
        assert_eq!(app.get(&path).await.status(), 200, "{file}: GET {path}");
        // bash blocks: off the runtime that serves the request.
        let command_run = command.clone();
        let passed = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
            bash(&command_run, &env)
        })
        .await
        .unwrap();
        assert!(passed, "{file}'s health check fails on a ready server: {command}");
    }
    app.shutdown().await;
}

#[test]
fn every_setting_the_image_the_compose_files_and_the_unit_give_is_one_heard_accepts() {
    let example = workspace_root().join("ops/heard.example.toml");
    let image = Image::parse(&read("Dockerfile"));
    assert!(
        image
            .copies
            .iter()
            .any(|(source, destination)| source == "ops/heard.example.toml" && image.cmd.contains(destination)),
        "the image serves with the example config: {image:?}"
    );
    let in_image =
        Settings::load(Some(&example), image.env.clone()).unwrap_or_else(|error| panic!("Dockerfile: {error}"));
    assert_eq!(in_image.data_dir.to_str(), Some("/var/lib/heard"));
    assert_eq!(in_image.listen, "0.0.0.0:8080");

    for file in ["ops/compose.yaml", "ops/compose.postgres.yaml", "ops/heard.service"] {
        let variables = heard_variables(&read(file));
        let settings = Settings::load(Some(&example), image.env.iter().cloned().chain(variables.clone()))
            .unwrap_or_else(|error| panic!("{file}: {error} ({variables:?})"));
        settings.store.complete().unwrap_or_else(|error| panic!("{file}: {error}"));
        settings.http.limits().unwrap_or_else(|error| panic!("{file}: {error}"));
    }

    // The replicas run on PostgreSQL, and believe the proxy's X-Forwarded-For.
    let replicas = heard_variables(&read("ops/compose.postgres.yaml"));
    let replica = Settings::load(Some(&example), replicas).unwrap();
    assert_eq!(replica.store.backend, heard_eventstore::BackendKind::Postgres);
    assert!(
        read("ops/compose.postgres.yaml").contains(&format!(
            "ipv4_address: {}",
            replica.http.trusted_proxies.first().expect("the proxy is trusted")
        ))
    );

    // The unit serves as the image does, with its data in its StateDirectory.
    let unit = read("ops/heard.service");
    let exec = unit.lines().find_map(|line| line.strip_prefix("ExecStart=")).expect("ExecStart");
    let exec: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(exec.first(), Some(&"/usr/local/bin/heard"));
    assert_eq!(exec.get(1..).unwrap_or_default(), image.cmd.as_slice(), "the unit and the image run the same command");
    let state = unit.lines().find_map(|line| line.strip_prefix("StateDirectory=")).expect("StateDirectory");
    let settings = Settings::load(Some(&example), heard_variables(&unit)).unwrap();
    assert_eq!(settings.data_dir, std::path::Path::new("/var/lib").join(state));
}
