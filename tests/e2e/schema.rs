//! The committed GraphQL SDL must match the code.

use heard_tests::workspace_root;

#[test]
fn the_committed_schema_matches_the_code() {
    let path = workspace_root().join("schema").join("heard.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = heard::graphql::sdl();
    if committed != generated {
        let diff: Vec<String> = diff_lines(&committed, &generated);
        panic!(
            "schema/heard.graphql is out of date:\n{}\n\nupdate it with:\n  cargo run -q -p heard -- schema > schema/heard.graphql",
            diff.join("\n")
        );
    }
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
