//! The `heard` command. Everything lives in the library so tests can drive it in process.

fn main() -> std::process::ExitCode {
    heard::cli::main()
}
