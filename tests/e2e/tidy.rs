//! Architecture invariants, checked mechanically (see ARCHITECTURE.md):
//! - domain modules (`src/domain/`) import no web, GraphQL or storage crate;
//! - a service never depends on another service (the gateway composes them; it is exempt);
//! - a shared crate under `crates/` never depends on a service.

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

#[test]
fn domain_modules_import_no_web_graphql_or_storage_crate() {
    let root = workspace_root();
    let mut files = Vec::new();
    for group in ["services", "crates"] {
        for dir in crate_dirs(&root, group) {
            rust_files_under(&dir.join("src").join("domain"), &mut files);
        }
    }
    let offenders: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let found = forbidden_imports(&std::fs::read_to_string(file).unwrap());
            (!found.is_empty()).then(|| format!("{} uses {}", file.display(), found.join(", ")))
        })
        .collect();
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
