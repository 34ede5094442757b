//! The committed GraphQL SDL must match the code.

use heard_tests::workspace_root;

#[test]
fn every_committed_schema_file_matches_the_code() {
    let mut stale = Vec::new();
    for (name, generated) in heard::graphql::sdl_files() {
        let committed = std::fs::read_to_string(workspace_root().join("schema").join(name)).unwrap_or_default();
        if committed != generated {
            stale.push(format!("schema/{name} is out of date:\n{}", diff_lines(&committed, &generated).join("\n")));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n\nupdate them with:\n  cargo run -q -p heard -- schema --write schema",
        stale.join("\n\n")
    );
}

#[test]
fn each_service_subgraph_declares_its_entities_with_federation_keys() {
    let identity = heard_identity::graphql::subgraph_sdl();
    for entity in
        ["type User @key(fields: \"id\")", "type Hub @key(fields: \"id\")", "type Provider @key(fields: \"id\")"]
    {
        assert!(identity.contains(entity), "identity subgraph lacks `{entity}`:\n{identity}");
    }
    assert!(
        identity.contains("extend schema @link(") && identity.contains("url: \"https://specs.apollo.dev/federation/v2"),
        "not a federation v2 subgraph"
    );
}

fn diff_lines(old: &str, new: &str) -> Vec<String> {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = Vec::new();
    for line in &old_lines {
        if !new_lines.contains(line) {
            out.push(format!("- {line}"));
        }
    }
    for line in &new_lines {
        if !old_lines.contains(line) {
            out.push(format!("+ {line}"));
        }
    }
    out
}
