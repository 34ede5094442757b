//! Helpers for the end-to-end tests: a real server on port 0 with a fresh data directory, and
//! the real `heard` binary for tests that kill processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use heard::{RunningServer, Settings};
use heard_eventstore::EventStore;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A server started for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub store: EventStore,
    server: Option<RunningServer>,
    pub data_dir: TempDir,
}

/// Boots the real server in process on `127.0.0.1:0` with a fresh data directory.
pub async fn spawn_app() -> TestApp {
    init_test_logs();
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    let settings =
        Settings { data_dir: data_dir.path().to_owned(), listen: "127.0.0.1:0".into(), ..Settings::default() };
    let server = heard::start(&settings).await.expect("the server starts");
    let client = reqwest::Client::builder().build().expect("an HTTP client");
    TestApp { addr: server.addr, store: server.store.clone(), client, server: Some(server), data_dir }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("the request is answered")
    }

    /// Posts a GraphQL query and returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("the request is answered")
            .json()
            .await
            .expect("GraphQL answers with JSON")
    }

    /// Shuts the server down gracefully (the store is flushed and closed).
    pub async fn shutdown(mut self) -> TempDir {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("a clean shutdown");
        }
        self.data_dir
    }
}

/// Logs stay quiet unless `TEST_LOG` is set.
fn init_test_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            heard::telemetry::init(&heard::config::LogSettings { filter: "debug".into(), ..Default::default() });
        }
    });
}

/// The path of the real `heard` binary, built (or brought up to date) on first use.
pub fn heard_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let workspace = workspace_root();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = std::process::Command::new(cargo)
                .args(["build", "--quiet", "-p", "heard", "--bin", "heard"])
                .current_dir(&workspace)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the heard binary failed");
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
            let binary = target.join("debug").join("heard");
            assert!(binary.exists(), "no binary at {}", binary.display());
            binary
        })
        .clone()
}

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_owned()
}

/// A small, seedable random number generator, so a failing crash run can be replayed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds from `HEARD_TEST_SEED` when set, otherwise randomly; prints the seed.
    pub fn from_env_or_random() -> Self {
        let seed = std::env::var("HEARD_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0 | 1);
        eprintln!("random seed: HEARD_TEST_SEED={seed}");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `low..high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low).max(1)
    }
}
