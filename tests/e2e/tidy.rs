//! Architecture invariants, checked mechanically (see ARCHITECTURE.md):
//! - domain modules (`src/domain/`), the pure modules ARCHITECTURE.md names and every source of
//!   a pure crate import no web, GraphQL or storage crate;
//! - the pure crates (`heard-access`, `heard-workdays`, `heard-text`, `heard-contracts`) reach
//!   no storage, web or GraphQL crate, even through another dependency (read from `cargo
//!   metadata`, not from text);
//! - a service never depends on another service; only the gateway, the demo, the benchmarks and
//!   the tests depend on services at all, and the frontend reaches none;
//! - no service names another service's event type as a string literal (it uses the constant in
//!   `heard-contracts`);
//! - no code outside `crates/access` compares roles: pages and services ask the policy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use heard_tests::workspace_root;

const FORBIDDEN_IN_DOMAIN: &[&str] = &["axum", "async_graphql", "sled", "tantivy", "sqlx", "tokio_postgres"];
const COMPOSER: &str = "heard";

/// The forbidden crates a Rust source file uses.
fn forbidden_imports(source: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("").trim();
        for krate in FORBIDDEN_IN_DOMAIN {
            let uses = code.starts_with(&format!("use {krate}"))
                || code.starts_with(&format!("pub use {krate}"))
                || code.starts_with(&format!("extern crate {krate}"))
                || code.contains(&format!("{krate}::"));
            let uses = uses && !code.contains(&format!("_{krate}::")) && !code.contains(&format!("heard_{krate}"));
            if uses && !found.contains(krate) {
                found.push(*krate);
            }
        }
    }
    found
}

fn rust_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crate_dirs(root: &Path, group: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join(group))
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.join("Cargo.toml").is_file()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn manifest(dir: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()).unwrap()
}

fn package_name(manifest: &toml::Table) -> String {
    manifest["package"]["name"].as_str().unwrap().to_owned()
}

/// Every dependency name of a manifest, of every kind.
fn dependencies(manifest: &toml::Table) -> Vec<String> {
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .filter_map(|kind| manifest.get(*kind).and_then(|d| d.as_table()))
        .flat_map(|table| {
            table.iter().map(|(name, spec)| {
                spec.get("package").and_then(|p| p.as_str()).map_or_else(|| name.clone(), str::to_owned)
            })
        })
        .collect()
}

/// (depending package, depended-on service) pairs that break the service boundary.
fn boundary_violations(services: &[(String, Vec<String>)], shared: &[(String, Vec<String>)]) -> Vec<(String, String)> {
    let service_names: Vec<&String> = services.iter().map(|(name, _)| name).collect();
    let mut violations = Vec::new();
    for (name, deps) in services.iter().filter(|(name, _)| name != COMPOSER).chain(shared) {
        for dep in deps {
            if dep != name && service_names.contains(&dep) {
                violations.push((name.clone(), dep.clone()));
            }
        }
    }
    violations
}

/// "file uses crate, crate" for each of `files` that imports a forbidden crate.
fn import_offenders(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter_map(|file| {
            let found = forbidden_imports(&std::fs::read_to_string(file).unwrap());
            (!found.is_empty()).then(|| format!("{} uses {}", file.display(), found.join(", ")))
        })
        .collect()
}

#[test]
fn domain_modules_import_no_web_graphql_or_storage_crate() {
    let root = workspace_root();
    let mut files = Vec::new();
    for group in ["services", "crates"] {
        for dir in crate_dirs(&root, group) {
            rust_files_under(&dir.join("src").join("domain"), &mut files);
        }
    }
    let offenders = import_offenders(&files);
    assert!(offenders.is_empty(), "domain code must stay pure:\n{}", offenders.join("\n"));
}

#[test]
fn services_never_depend_on_each_other_and_shared_crates_never_depend_on_services() {
    let root = workspace_root();
    let collect = |group| {
        crate_dirs(&root, group)
            .iter()
            .map(|dir| {
                let manifest = manifest(dir);
                (package_name(&manifest), dependencies(&manifest))
            })
            .collect::<Vec<_>>()
    };
    let services = collect("services");
    assert!(services.iter().any(|(name, _)| name == COMPOSER), "the gateway is found");
    let violations = boundary_violations(&services, &collect("crates"));
    assert!(violations.is_empty(), "service boundaries crossed: {violations:?}");
}

#[test]
fn the_import_check_catches_each_forbidden_crate() {
    assert_eq!(forbidden_imports("use axum::Router;"), vec!["axum"]);
    assert_eq!(forbidden_imports("fn f(db: &sled::Db) {}"), vec!["sled"]);
    assert_eq!(
        forbidden_imports("use async_graphql::{Object};\nuse tantivy::Index;"),
        vec!["async_graphql", "tantivy"]
    );
    assert!(forbidden_imports("use heard_eventstore::NewEvent; // not sled::Db").is_empty());
    assert!(forbidden_imports("use serde::Serialize;").is_empty());
}

#[test]
fn the_boundary_check_catches_a_service_depending_on_another() {
    let services = vec![
        ("heard".to_owned(), vec!["heard-feedback".to_owned()]),
        ("heard-feedback".to_owned(), vec!["heard-advocacy".to_owned(), "serde".to_owned()]),
        ("heard-advocacy".to_owned(), vec!["heard-eventstore".to_owned()]),
    ];
    let shared = vec![("heard-kernel".to_owned(), vec!["heard-rights".to_owned(), "heard-advocacy".to_owned()])];
    assert_eq!(
        boundary_violations(&services, &shared),
        vec![
            ("heard-feedback".to_owned(), "heard-advocacy".to_owned()),
            ("heard-kernel".to_owned(), "heard-advocacy".to_owned())
        ]
    );
}

/// Packages no pure crate may reach, even through another dependency: storage, web and GraphQL.
const FORBIDDEN_PACKAGES: &[&str] = &[
    "axum",
    "async-graphql",
    "async-graphql-axum",
    "hyper",
    "tower",
    "tower-http",
    "maud",
    "plotters",
    "reqwest",
    "sled",
    "tantivy",
    "tokio-postgres",
    "sqlx",
];

/// The crates ARCHITECTURE.md calls pure: policy, calendars, text rules and event contracts.
const PURE_CRATES: &[&str] = &["heard-access", "heard-workdays", "heard-text", "heard-contracts"];

/// Modules outside `src/domain/` that ARCHITECTURE.md describes as pure.
const PURE_MODULES: &[&str] = &[
    "services/feedback/src/import/mod.rs",
    "services/feedback/src/import/sheet.rs",
    "services/feedback/src/import/columns.rs",
    "services/feedback/src/import/guard.rs",
    "services/commissioning/src/report.rs",
];

/// The packages that may depend on services: the composer, the demo data, the benchmarks, the tests.
const MAY_DEPEND_ON_SERVICES: &[&str] = &["heard", "heard-demo", "heard-bench", "heard-tests"];

/// The workspace as cargo resolves it: each package's name, folder and normal dependencies.
struct Workspace {
    names: BTreeMap<String, String>,
    folders: BTreeMap<String, PathBuf>,
    normal_deps: BTreeMap<String, Vec<String>>,
    members: Vec<String>,
}

impl Workspace {
    fn load() -> Workspace {
        let root = workspace_root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(root.join("Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let mut workspace = Workspace {
            names: BTreeMap::new(),
            folders: BTreeMap::new(),
            normal_deps: BTreeMap::new(),
            members: metadata["workspace_members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect(),
        };
        for package in metadata["packages"].as_array().unwrap() {
            let id = package["id"].as_str().unwrap().to_owned();
            workspace.names.insert(id.clone(), package["name"].as_str().unwrap().to_owned());
            let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
            workspace.folders.insert(id, manifest.parent().unwrap().to_owned());
        }
        for node in metadata["resolve"]["nodes"].as_array().unwrap() {
            let normal = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| dep["dep_kinds"].as_array().unwrap().iter().any(|kind| kind["kind"].is_null()))
                .map(|dep| dep["pkg"].as_str().unwrap().to_owned())
                .collect();
            workspace.normal_deps.insert(node["id"].as_str().unwrap().to_owned(), normal);
        }
        workspace
    }

    fn member(&self, name: &str) -> Option<&String> {
        self.members.iter().find(|id| self.names[*id] == name)
    }

    /// The names of every package `id` reaches through normal dependencies.
    fn reaches(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![id.to_owned()];
        while let Some(next) = todo.pop() {
            for dep in self.normal_deps.get(&next).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    todo.push(dep.clone());
                }
            }
        }
        seen.iter().map(|id| self.names[id].clone()).collect()
    }

    /// The workspace's service packages (everything under `services/` but the composer).
    fn services(&self) -> BTreeSet<String> {
        let services = workspace_root().join("services");
        self.members
            .iter()
            .filter(|id| self.folders[*id].starts_with(&services) && self.names[*id] != COMPOSER)
            .map(|id| self.names[id].clone())
            .collect()
    }
}

/// Which forbidden packages each pure crate reaches.
fn impure_reaches(reaches: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    reaches
        .iter()
        .flat_map(|(krate, reached)| {
            FORBIDDEN_PACKAGES
                .iter()
                .filter(|forbidden| reached.contains(**forbidden))
                .map(move |forbidden| format!("{krate} reaches {forbidden}"))
        })
        .collect()
}

#[test]
fn pure_crates_reach_no_storage_web_or_graphql_crate_even_indirectly() {
    let workspace = Workspace::load();
    let reaches: BTreeMap<String, BTreeSet<String>> = PURE_CRATES
        .iter()
        .filter_map(|name| workspace.member(name).map(|id| (name.to_string(), workspace.reaches(id))))
        .collect();
    assert!(
        reaches.contains_key("heard-access") && reaches.contains_key("heard-workdays"),
        "the pure crates are found"
    );
    let found = impure_reaches(&reaches);
    assert!(found.is_empty(), "pure crates must stay pure:\n{}", found.join("\n"));
}

#[test]
fn only_the_gateway_demo_benchmarks_and_tests_depend_on_services_and_the_frontend_reaches_none() {
    let workspace = Workspace::load();
    let services = workspace.services();
    assert!(
        services.contains("heard-feedback") && services.contains("heard-rights"),
        "services are found: {services:?}"
    );
    let mut crossings = Vec::new();
    for id in &workspace.members {
        let name = &workspace.names[id];
        let direct: BTreeSet<String> =
            workspace.normal_deps[id].iter().map(|dep| workspace.names[dep].clone()).collect();
        let used: Vec<&String> = direct.intersection(&services).filter(|dep| *dep != name).collect();
        if !used.is_empty() && !MAY_DEPEND_ON_SERVICES.contains(&name.as_str()) {
            crossings.push(format!("{name} depends on {used:?}"));
        }
    }
    let frontend = workspace.member("heard-frontend").expect("the frontend is found");
    let reached: Vec<String> = workspace.reaches(frontend).intersection(&services).cloned().collect();
    if !reached.is_empty() {
        crossings.push(format!("heard-frontend reaches {reached:?}"));
    }
    assert!(
        crossings.is_empty(),
        "only the composer, demo, benchmarks and tests may use services:\n{}",
        crossings.join("\n")
    );
}

#[test]
fn pure_modules_and_pure_crates_import_no_web_graphql_or_storage_crate() {
    let root = workspace_root();
    let mut files: Vec<PathBuf> = PURE_MODULES.iter().map(|module| root.join(module)).collect();
    for krate in crate_dirs(&root, "crates") {
        let name = package_name(&manifest(&krate));
        if PURE_CRATES.contains(&name.as_str()) {
            rust_files_under(&krate.join("src"), &mut files);
        }
    }
    assert!(files.iter().all(|file| file.is_file()), "every named pure module exists: {files:?}");
    let offenders = import_offenders(&files);
    assert!(offenders.is_empty(), "pure modules must stay pure:\n{}", offenders.join("\n"));
}

/// The lines of `source` that compare roles (`==`/`!=` against a `Role::`, `matches!` on one,
/// `contains(&Role::…)` or `has(Role::…)`), ignoring comments.
fn role_comparisons(source: &str) -> Vec<String> {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or("").trim())
        .filter(|code| {
            code.contains("Role::")
                && (code.contains("== ")
                    || code.contains("!= ")
                    || code.contains("matches!(")
                    || code.contains("contains(&")
                    || code.contains("has(Role::"))
        })
        .map(str::to_owned)
        .collect()
}

/// Every Rust file of the product that is not the policy itself and not a test.
fn product_sources() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut files = Vec::new();
    for group in ["services", "crates", "frontend", "demo", "tools"] {
        let dir = root.join(group);
        if dir.join("Cargo.toml").is_file() {
            rust_files_under(&dir.join("src"), &mut files);
            continue;
        }
        for krate in crate_dirs(&root, group) {
            if !krate.ends_with("crates/access") {
                rust_files_under(&krate.join("src"), &mut files);
            }
        }
    }
    files.retain(|file| {
        let name = file.file_name().unwrap().to_string_lossy();
        !name.ends_with("tests.rs") && !file.components().any(|part| part.as_os_str() == "tests")
    });
    files
}

#[test]
fn no_code_outside_the_policy_compares_roles() {
    let root = workspace_root();
    let offenders: Vec<String> = product_sources()
        .iter()
        .flat_map(|file| {
            let shown = file.strip_prefix(&root).unwrap().display().to_string();
            role_comparisons(&std::fs::read_to_string(file).unwrap())
                .into_iter()
                .map(move |line| format!("{shown}: {line}"))
        })
        .collect();
    assert!(offenders.is_empty(), "ask heard_access::may (or a policy helper) instead:\n{}", offenders.join("\n"));
}

/// The string literals of `source` that look like event types (`"FeedbackLogged"`).
fn event_type_literals(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut parts = code.split('"');
        parts.next();
        while let (Some(inside), _) = (parts.next(), parts.next()) {
            let camel = inside.len() > 3
                && inside.starts_with(|c: char| c.is_ascii_uppercase())
                && inside.chars().all(|c| c.is_ascii_alphanumeric())
                && inside.chars().skip(1).any(|c| c.is_ascii_uppercase());
            if camel {
                found.insert(inside.to_owned());
            }
        }
    }
    found
}

/// (service, literal) pairs where a service names an event type another service publishes.
fn foreign_event_types(
    published: &BTreeMap<String, BTreeSet<String>>,
    sources: &[(String, String)],
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (service, source) in sources {
        for literal in event_type_literals(source) {
            let owner = published.iter().find(|(_, types)| types.contains(&literal)).map(|(owner, _)| owner);
            if owner.is_some_and(|owner| owner != service) && !found.contains(&(service.clone(), literal.clone())) {
                found.push((service.clone(), literal));
            }
        }
    }
    found
}

/// Each contract module's event types, keyed by the service that publishes them (the module's
/// name: `crates/contracts/src/feedback.rs` or `crates/contracts/src/feedback/`).
fn published_event_types() -> BTreeMap<String, BTreeSet<String>> {
    let contracts = workspace_root().join("crates/contracts/src");
    let mut published = BTreeMap::new();
    for entry in std::fs::read_dir(&contracts).expect("crates/contracts exists").flatten() {
        let path = entry.path();
        let owner = path.file_stem().unwrap().to_string_lossy().into_owned();
        if owner == "lib" || owner == "reference" {
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files_under(&path, &mut files);
        } else {
            files.push(path);
        }
        let types: BTreeSet<String> =
            files.iter().flat_map(|file| event_type_literals(&std::fs::read_to_string(file).unwrap())).collect();
        published.insert(owner, types);
    }
    published
}

#[test]
fn no_service_names_another_services_event_type_as_a_string() {
    let root = workspace_root();
    let published = published_event_types();
    assert!(published.get("feedback").is_some_and(|types| types.contains("FeedbackLogged")), "{published:?}");
    let mut sources = Vec::new();
    for service in crate_dirs(&root, "services") {
        let name = service.file_name().unwrap().to_string_lossy().into_owned();
        let mut files = Vec::new();
        rust_files_under(&service.join("src"), &mut files);
        for file in files {
            sources.push((name.clone(), std::fs::read_to_string(file).unwrap()));
        }
    }
    let found = foreign_event_types(&published, &sources);
    assert!(found.is_empty(), "read other services' events through heard-contracts: {found:?}");
}

#[test]
fn the_pure_crate_check_catches_a_forbidden_crate_reached_indirectly() {
    let reaches = BTreeMap::from([
        ("heard-access".to_owned(), BTreeSet::from(["serde".to_owned(), "hyper".to_owned()])),
        ("heard-workdays".to_owned(), BTreeSet::from(["jiff".to_owned()])),
    ]);
    assert_eq!(impure_reaches(&reaches), vec!["heard-access reaches hyper".to_owned()]);
}

#[test]
fn the_role_check_catches_each_way_of_comparing_roles() {
    let source = "if role == Role::HubCoordinator {\n\
                  roles.contains(&Role::Advocate)\n\
                  matches!(role, Role::Commissioner)\n\
                  if actor.has(Role::Advocate) {\n\
                  // a comment about role == Role::Advocate\n\
                  let label = match role { Role::Advocate => \"Advocate\", _ => \"\" };\n\
                  may(&actor, Action::ViewCase, &resource)";
    assert_eq!(
        role_comparisons(source),
        vec![
            "if role == Role::HubCoordinator {",
            "roles.contains(&Role::Advocate)",
            "matches!(role, Role::Commissioner)",
            "if actor.has(Role::Advocate) {"
        ]
    );
}

#[test]
fn the_event_type_check_catches_a_service_naming_another_services_event() {
    let published = BTreeMap::from([
        ("feedback".to_owned(), BTreeSet::from(["FeedbackLogged".to_owned(), "FeedbackShared".to_owned()])),
        ("rights".to_owned(), BTreeSet::from(["ComplaintReceived".to_owned()])),
    ]);
    let sources = vec![
        ("feedback".to_owned(), "const TYPE: &str = \"FeedbackLogged\";".to_owned()),
        ("commissioning".to_owned(), "if event.event_type == \"FeedbackShared\" { label(\"Hello\") }".to_owned()),
        ("rights".to_owned(), "// \"FeedbackLogged\" is only a comment here".to_owned()),
    ];
    assert_eq!(
        foreign_event_types(&published, &sources),
        vec![("commissioning".to_owned(), "FeedbackShared".to_owned())]
    );
}
