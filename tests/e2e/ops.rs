//! The ways to run Heard that live outside cargo (the Dockerfile, `ops/compose*.yaml`,
//! `ops/heard.service`), held to the real binary and server: the image's command starts Heard,
//! its health check passes on a ready server and fails on a dead port, every health check
//! names an endpoint the server answers, every `HEARD_…` setting they give (or suggest in a
//! comment) is one the configuration loader accepts, whoever forwards requests to Heard is
//! trusted by its fixed address, the split deployment runs each subgraph once and its web UI
//! twice, and the erasure register is somewhere the unit and the container can write, outside
//! the data directory. `ops/check` lints the same files.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use heard::Settings;
use heard_tests::{heard_binary, spawn_app, workspace_root};

/// Every compose file in ops/.
const COMPOSE_FILES: [&str; 3] = ["ops/compose.yaml", "ops/compose.postgres.yaml", "ops/compose.split.yaml"];

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
    variables_in(text, true)
}

/// The `HEARD_…` variables `text` sets (comments left out), each once: the last value of each
/// wins, as in a compose file whose own keys override those it merges.
fn heard_variables_set(text: &str) -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = Vec::new();
    for (key, value) in variables_in(text, false) {
        variables.retain(|(known, _)| *known != key);
        variables.push((key, value));
    }
    variables
}

fn variables_in(text: &str, with_comments: bool) -> Vec<(String, String)> {
    let mut variables = Vec::new();
    for line in text.lines() {
        if !with_comments && line.trim_start().starts_with('#') {
            continue;
        }
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

/// One service of a compose file: its lines, after those of every block it merges (`<<: *name`)
/// or takes whole (`environment: *name`), so that the last line of a key is the one compose uses.
#[derive(Debug)]
struct ComposeService {
    name: String,
    text: String,
}

impl ComposeService {
    /// The lines of a key, comments left out.
    fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.text
            .lines()
            .filter_map(move |line| line.trim().strip_prefix(key)?.strip_prefix(':').map(str::trim))
            .filter(|value| !value.is_empty())
    }

    /// `command:`, written as a JSON array on one line; empty when the image's CMD runs.
    fn command(&self) -> Vec<String> {
        self.values("command").last().map_or_else(Vec::new, |line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{}: command is not one JSON array: {error}", self.name))
        })
    }

    /// Whether it has a key at all (`entrypoint:` followed by a list has no value on its line).
    fn has(&self, key: &str) -> bool {
        self.text.lines().any(|line| line.trim().strip_prefix(key).is_some_and(|rest| rest.starts_with(':')))
    }

    /// Whether it runs `heard serve`: Heard's image with `serve` (or the image's own CMD, when it
    /// replaces neither the command nor the entrypoint).
    fn serves_heard(&self) -> bool {
        let command = self.command();
        self.values("image").any(|image| image == "heard:local")
            && if command.is_empty() { !self.has("entrypoint") } else { command[0] == "serve" }
    }

    /// The named volume or host directory mounted at `target` (`- SOURCE:TARGET[:ro]`), if
    /// `with_comments`, also one a comment suggests.
    fn mounted_at(&self, target: &str, with_comments: bool) -> Option<String> {
        self.text.lines().find_map(|line| {
            let line = line.trim();
            let line = if with_comments { line.trim_start_matches('#').trim() } else { line };
            let (source, rest) = line.strip_prefix("- ")?.split_once(':')?;
            (rest == target || rest.strip_prefix(target)?.starts_with(':')).then(|| source.to_owned())
        })
    }

    /// Hive Gateway, built from ops/federation/Dockerfile.
    fn is_federation_gateway(&self) -> bool {
        self.values("dockerfile").any(|dockerfile| dockerfile == "ops/federation/Dockerfile")
    }

    fn fixed_address(&self) -> Option<std::net::Ipv4Addr> {
        self.values("ipv4_address").last().map(|address| address.parse().expect("an IPv4 address"))
    }

    /// The addresses whose X-Forwarded-For it believes.
    fn trusted_proxies(&self) -> Vec<std::net::IpAddr> {
        heard_variables_set(&self.text)
            .into_iter()
            .filter(|(key, _)| key == "HEARD_HTTP__TRUSTED_PROXIES")
            .flat_map(|(_, value)| value.split(',').map(|address| address.trim().parse().unwrap()).collect::<Vec<_>>())
            .collect()
    }
}

/// A compose file's services, each with the blocks it merges resolved (anchors are on top-level
/// keys, `x-heard: &heard`, as in every file in ops/).
fn compose_services(file: &str) -> Vec<ComposeService> {
    let text = read(file);
    // (name, anchor, is a service, lines)
    let mut blocks: Vec<(String, Option<String>, bool, Vec<&str>)> = Vec::new();
    let mut in_services = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        let is_key = !trimmed.is_empty() && !trimmed.starts_with('#') && !trimmed.starts_with('-');
        if is_key && indent == 0 {
            let (name, rest) = trimmed.split_once(':').expect("a top-level key");
            in_services = name == "services";
            let anchor = rest.trim().strip_prefix('&').map(str::to_owned);
            blocks.push((name.to_owned(), anchor, false, Vec::new()));
        } else if is_key && indent == 2 && in_services {
            let name = trimmed.strip_suffix(':').unwrap_or_else(|| panic!("{file}: a service: {line}"));
            blocks.push((name.to_owned(), None, true, Vec::new()));
        } else if let Some((_, _, _, lines)) = blocks.last_mut() {
            lines.push(line);
        }
    }
    fn resolve(
        file: &str,
        lines: &[&str],
        blocks: &[(String, Option<String>, bool, Vec<&str>)],
        depth: usize,
    ) -> String {
        assert!(depth < 8, "{file}: anchors merge each other in a loop");
        let mut merged = String::new();
        for line in lines.iter().filter(|line| !line.trim_start().starts_with('#')) {
            if let Some((_, alias)) = line.split_once(": *") {
                let (_, _, _, anchored) = blocks
                    .iter()
                    .find(|(_, anchor, _, _)| anchor.as_deref() == Some(alias.trim()))
                    .unwrap_or_else(|| panic!("{file}: no anchor &{alias}"));
                merged.push_str(&resolve(file, anchored, blocks, depth + 1));
            }
        }
        merged + &lines.join("\n") + "\n"
    }
    blocks
        .iter()
        .filter(|(_, _, is_service, _)| *is_service)
        .map(|(name, _, _, lines)| ComposeService { name: name.clone(), text: resolve(file, lines, &blocks, 0) })
        .collect()
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
    for file in COMPOSE_FILES {
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

    // Every heard server of every compose file, with the variables its own block and the blocks
    // it merges give it or suggest (not the gateway's HEARD_<NAME>_URL: those are the gateway's).
    for file in COMPOSE_FILES {
        let services = compose_services(file);
        let servers: Vec<&ComposeService> = services.iter().filter(|service| service.serves_heard()).collect();
        assert!(!servers.is_empty(), "{file} runs heard serve: {services:?}");
        for service in servers {
            let name = &service.name;
            let variables = heard_variables(&service.text);
            let settings = Settings::load(Some(&example), image.env.iter().cloned().chain(variables.clone()))
                .unwrap_or_else(|error| panic!("{file}, {name}: {error} ({variables:?})"));
            settings.store.complete().unwrap_or_else(|error| panic!("{file}, {name}: {error}"));
            settings.http.limits().unwrap_or_else(|error| panic!("{file}, {name}: {error}"));
            if file != "ops/compose.yaml" {
                // The replicas, the subgraphs and the web UI fronts share one PostgreSQL log.
                let set =
                    Settings::load(Some(&example), image.env.iter().cloned().chain(heard_variables_set(&service.text)))
                        .unwrap();
                assert_eq!(set.store.backend, heard_eventstore::BackendKind::Postgres, "{file}, {name}");
            }
        }
    }
    let unit = read("ops/heard.service");
    let settings = Settings::load(Some(&example), image.env.iter().cloned().chain(heard_variables(&unit)))
        .unwrap_or_else(|error| panic!("ops/heard.service: {error}"));
    settings.store.complete().unwrap();
    settings.http.limits().unwrap();

    // The unit serves as the image does, with its data in its StateDirectory.
    let unit = read("ops/heard.service");
    let exec = unit.lines().find_map(|line| line.strip_prefix("ExecStart=")).expect("ExecStart");
    let exec: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(exec.first(), Some(&"/usr/local/bin/heard"));
    assert_eq!(exec.get(1..).unwrap_or_default(), image.cmd.as_slice(), "the unit and the image run the same command");
    let state = unit.lines().find_map(|line| line.strip_prefix("StateDirectory=")).expect("StateDirectory");
    let data = state.split_whitespace().next().expect("a StateDirectory");
    let settings = Settings::load(Some(&example), heard_variables(&unit)).unwrap();
    assert_eq!(settings.data_dir, std::path::Path::new("/var/lib").join(data));
}

#[test]
fn every_heard_server_in_the_compose_files_has_a_health_check_and_a_data_volume_of_its_own() {
    for file in COMPOSE_FILES {
        let mut volumes: Vec<String> = Vec::new();
        for service in compose_services(file).iter().filter(|service| service.serves_heard()) {
            let name = &service.name;
            assert!(!compose_health_commands(&service.text).is_empty(), "{file}: {name} has no health check");
            // One process owns a data directory (a lock on it): never two on one volume.
            let volume = service
                .mounted_at("/var/lib/heard", false)
                .unwrap_or_else(|| panic!("{file}: {name} mounts nothing at /var/lib/heard"));
            assert!(!volumes.contains(&volume), "{file}: {name} shares the data volume {volume}");
            volumes.push(volume);
        }
    }
}

/// Whether `address` is in `cidr` (`10.89.22.0/24`).
fn in_network(address: std::net::Ipv4Addr, cidr: &str) -> bool {
    let (network, bits) = cidr.split_once('/').expect("ADDRESS/BITS");
    let network: std::net::Ipv4Addr = network.parse().unwrap();
    let mask = u32::MAX.checked_shl(32 - bits.parse::<u32>().unwrap()).unwrap_or(0);
    u32::from(address) & mask == u32::from(network) & mask
}

/// The host of a URL or of `--to HOST:PORT`.
fn host_of(target: &str) -> &str {
    let target = target.split_once("://").map_or(target, |(_, rest)| rest);
    target.split([':', '/']).next().unwrap_or_default()
}

#[test]
fn whoever_forwards_requests_to_heard_in_the_compose_files_is_trusted_by_its_fixed_address_and_no_one_else() {
    for file in ["ops/compose.postgres.yaml", "ops/compose.split.yaml"] {
        let text = read(file);
        let services = compose_services(file);
        let find = |name: &str| {
            services.iter().find(|service| service.name == name).unwrap_or_else(|| panic!("{file}: no service {name}"))
        };
        // (who sends X-Forwarded-For, to whom)
        let mut forwards: Vec<(String, String)> = Vec::new();
        for service in &services {
            let command = service.command();
            // A reverse proxy: `caddy reverse-proxy --to NAME:PORT …`.
            for pair in command.windows(2).filter(|pair| pair[0] == "--to") {
                forwards.push((service.name.clone(), host_of(&pair[1]).to_owned()));
            }
            // The federation gateway, to each subgraph (HEARD_<NAME>_URL).
            if service.is_federation_gateway() {
                for (_, url) in variables_in(&service.text, false).into_iter().filter(|(key, _)| key.ends_with("_URL"))
                {
                    forwards.push((service.name.clone(), host_of(&url).to_owned()));
                }
            }
        }
        // A web UI front's own entry reaches the subgraphs behind the gateway it sends through.
        for service in &services {
            let command = service.command();
            if let Some(at) = command.iter().position(|arg| arg == "--web-through") {
                let gateway = host_of(&command[at + 1]);
                let behind: Vec<String> =
                    forwards.iter().filter(|(from, _)| from == gateway).map(|(_, to)| to.clone()).collect();
                assert!(
                    !behind.is_empty(),
                    "{file}: {} sends through {gateway}, which forwards to no one",
                    service.name
                );
                forwards.extend(behind.into_iter().map(|to| (service.name.clone(), to)));
            }
        }
        assert!(!forwards.is_empty(), "{file}: nothing forwards to heard");

        let mut trusted_somewhere = Vec::new();
        for (from, to) in &forwards {
            let (from, to) = (find(from), find(to));
            assert!(to.serves_heard(), "{file}: {} forwards to {}, which is not a heard server", from.name, to.name);
            let address = from
                .fixed_address()
                .unwrap_or_else(|| panic!("{file}: {} forwards to heard from no fixed address", from.name));
            assert!(
                to.trusted_proxies().contains(&std::net::IpAddr::V4(address)),
                "{file}: {} does not trust {}'s X-Forwarded-For ({address})",
                to.name,
                from.name
            );
            trusted_somewhere.push(address);
        }
        // Every trusted address is one of these, and every fixed address is taken from the
        // network's subnet, never from the range compose hands out to the others.
        let subnet = text.lines().find_map(|line| line.trim().strip_prefix("- subnet:")).expect("a subnet").trim();
        let handed_out = text.lines().find_map(|line| line.trim().strip_prefix("ip_range:")).map(str::trim);
        for service in services.iter().filter(|service| service.serves_heard()) {
            for proxy in service.trusted_proxies() {
                let std::net::IpAddr::V4(proxy) = proxy else { panic!("{file}: {}: {proxy}", service.name) };
                assert!(
                    trusted_somewhere.contains(&proxy),
                    "{file}: {} trusts {proxy}, which forwards nothing to it",
                    service.name
                );
            }
        }
        for service in &services {
            if let Some(address) = service.fixed_address() {
                assert!(in_network(address, subnet), "{file}: {}'s {address} is outside {subnet}", service.name);
                assert!(
                    handed_out.is_none_or(|range| !in_network(address, range)),
                    "{file}: {}'s {address} is in the ip_range compose hands out",
                    service.name
                );
                assert!(
                    trusted_somewhere.contains(&address),
                    "{file}: {} has a fixed address no one trusts",
                    service.name
                );
            }
        }
    }
}

#[test]
fn the_split_compose_file_runs_each_subgraph_once_behind_the_gateway_and_the_web_ui_twice_behind_a_proxy() {
    let file = "ops/compose.split.yaml";
    let services = compose_services(file);
    let subgraphs: Vec<(String, &ComposeService)> = services
        .iter()
        .filter_map(|service| {
            let command = service.command();
            let at = command.iter().position(|arg| arg == "--service")?;
            Some((command[at + 1].clone(), service))
        })
        .collect();
    // The subgraphs of the committed supergraph, which the gateway's image carries.
    let supergraph = read("schema/supergraph.graphql");
    let mut expected: Vec<String> = supergraph
        .lines()
        .filter_map(|line| line.split_once("@join__graph(name: \"")?.1.split('"').next().map(str::to_owned))
        .collect();
    expected.sort();
    let mut named: Vec<String> = subgraphs.iter().map(|(name, _)| name.clone()).collect();
    named.sort();
    assert_eq!(named, expected, "{file} runs each subgraph once");

    // The gateway is given a URL for each, at the service that runs it, and only variables its
    // configuration reads.
    let gateway = services.iter().find(|service| service.is_federation_gateway()).expect("the gateway");
    let reads = read("ops/federation/gateway.config.mjs");
    let mut urls = Vec::new();
    for (key, url) in variables_in(&gateway.text, true) {
        let subgraph = key.strip_prefix("HEARD_").and_then(|rest| rest.strip_suffix("_URL")).map(str::to_lowercase);
        match subgraph.filter(|name| expected.contains(name)) {
            Some(name) => {
                let (_, service) = subgraphs.iter().find(|(named, _)| *named == name).unwrap();
                assert_eq!(url, format!("http://{}:8080/graphql", service.name), "{file}: {key}");
                urls.push(name);
            }
            None => assert!(reads.contains(&key), "{file}: the gateway's {key} is not read by gateway.config.mjs"),
        }
    }
    urls.sort();
    assert_eq!(urls, expected, "{file}: the gateway is told where every subgraph is");

    // Two or more web UI fronts through the gateway, all behind the one proxy that is published.
    let fronts: Vec<&ComposeService> =
        services.iter().filter(|service| service.command().windows(2).any(|pair| pair[0] == "--web-through")).collect();
    assert!(fronts.len() >= 2, "{file}: the web UI runs twice: {fronts:?}");
    for front in &fronts {
        let command = front.command();
        let through = &command[command.iter().position(|arg| arg == "--web-through").unwrap() + 1];
        assert_eq!(through, &format!("http://{}:4000/graphql", gateway.name), "{file}: {}", front.name);
        assert!(!front.has("ports"), "{file}: {} is reached through the proxy, not published", front.name);
    }
    let proxy =
        services.iter().find(|service| service.command().iter().any(|arg| arg == "reverse-proxy")).expect("a proxy");
    assert!(proxy.has("ports"), "{file}: the proxy is the web UI's published port");
    let command = proxy.command();
    let mut upstreams: Vec<&str> =
        command.windows(2).filter(|pair| pair[0] == "--to").map(|pair| host_of(&pair[1])).collect();
    upstreams.sort_unstable();
    let mut front_names: Vec<&str> = fronts.iter().map(|front| front.name.as_str()).collect();
    front_names.sort_unstable();
    assert_eq!(upstreams, front_names, "{file}: the proxy spreads requests over every front");
}

#[test]
fn the_erasure_register_is_outside_the_data_directory_where_the_unit_and_the_container_can_write_it() {
    // The unit: in a StateDirectory of its own (ProtectSystem=strict leaves nothing else
    // writable), as its comment and the example config say.
    let unit = read("ops/heard.service");
    let state = unit.lines().find_map(|line| line.strip_prefix("StateDirectory=")).expect("StateDirectory");
    let mut state = state.split_whitespace().map(|name| std::path::Path::new("/var/lib").join(name));
    let data = state.next().expect("the data directory");
    let writable: Vec<std::path::PathBuf> = state.collect();
    let register_in = |text: &str| -> Vec<std::path::PathBuf> {
        text.lines()
            .filter_map(|line| line.trim().trim_start_matches('#').trim().strip_prefix("erasure_register = \""))
            .map(|rest| rest.split('"').next().unwrap().into())
            .collect()
    };
    let example = read("ops/heard.example.toml");
    let registers: Vec<std::path::PathBuf> = register_in(&unit).into_iter().chain(register_in(&example)).collect();
    assert_eq!(registers.len(), 2, "the unit's comment and the example config name a register: {registers:?}");
    for register in &registers {
        assert!(!register.starts_with(&data), "{} is in the data directory", register.display());
        assert!(
            writable.iter().any(|dir| register.parent() == Some(dir)),
            "{} is not in a StateDirectory of ops/heard.service other than the data directory ({writable:?})",
            register.display()
        );
    }

    // A container: on a mount of its own, which is not the data volume's.
    for file in COMPOSE_FILES {
        for service in compose_services(file).iter().filter(|service| service.serves_heard()) {
            let Some((_, register)) =
                heard_variables(&service.text).into_iter().find(|(key, _)| key == "HEARD_BACKUP__ERASURE_REGISTER")
            else {
                continue;
            };
            let register = std::path::Path::new(&register);
            let folder = register.parent().unwrap().to_str().unwrap();
            assert!(!register.starts_with("/var/lib/heard/"), "{file}: {} in the data volume", service.name);
            let mounted = service.mounted_at(folder, true);
            assert!(
                mounted.is_some(),
                "{file}: {}'s erasure register has no mount of its own at {folder}",
                service.name
            );
            assert_ne!(mounted, service.mounted_at("/var/lib/heard", false), "{file}: {}", service.name);
        }
    }
}
