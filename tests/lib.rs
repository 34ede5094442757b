//! Helpers for the end-to-end tests: a real server on port 0 with a fresh data directory, and
//! the real `heard` binary for tests that kill processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use heard::{RunningServer, Services, Settings};
use heard_access::Role;
use heard_advocacy::service::AdvocacyService;
use heard_commissioning::service::CommissioningService;
use heard_eventstore::EventStore;
use heard_feedback::FeedbackService;
use heard_identity::{IdentityService, NewAccount};
use heard_rights::service::RightsService;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A server started for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub store: EventStore,
    pub identity: IdentityService,
    pub feedback: FeedbackService,
    pub rights: RightsService,
    pub advocacy: AdvocacyService,
    pub commissioning: CommissioningService,
    /// Every service, as the server opened them.
    pub services: Services,
    server: Option<RunningServer>,
    pub data_dir: TempDir,
    /// Where [`TestApp::graphql`] and [`TestApp::graphql_as`] send GraphQL instead of this
    /// server's own `/graphql`: the federation gateway of a split deployment over the same log
    /// (`tests/e2e/federation.rs`).
    pub through: Option<Through>,
}

/// A federation gateway in front of subgraphs that follow this server's log: its GraphQL URL,
/// and how to wait until every subgraph has read the log up to a position (what one service
/// wrote is answered by another within a second, as between replicas).
/// A future the harness waits on.
pub type Waiting<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

#[derive(Clone)]
pub struct Through {
    pub url: String,
    pub settle: std::sync::Arc<dyn Fn(u64) -> Waiting<()> + Send + Sync>,
    /// The furthest log position any subgraph has read or written: what this server reads up
    /// to after a request through the gateway, before a test looks into its models.
    pub written: std::sync::Arc<dyn Fn() -> Waiting<u64> + Send + Sync>,
}

/// The password every account made by [`TestApp::create_user`] has.
pub const PASSWORD: &str = "a long test passphrase";

/// Boots the real server in process on `127.0.0.1:0` with a fresh data directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed first (e.g. a short session lifetime).
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_logs();
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    spawn_app_in(data_dir, change).await
}

/// Boots the real server on an existing data directory.
pub async fn spawn_app_in(data_dir: TempDir, change: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_logs();
    let mut settings =
        Settings { data_dir: data_dir.path().to_owned(), listen: "127.0.0.1:0".into(), ..Settings::default() };
    change(&mut settings);
    // A server started again in the same process may find the last one's tasks still letting
    // go of the data directory (they drop their handles just after they stop): wait for that,
    // never longer than 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let server = loop {
        match heard::start(&settings).await {
            Err(error) if format!("{error:#}").contains("in use") && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            started => break started.expect("the server starts"),
        }
    };
    let client = reqwest::Client::builder().build().expect("an HTTP client");
    TestApp {
        addr: server.addr,
        store: server.store.clone(),
        identity: server.services.identity.clone(),
        feedback: server.services.feedback.clone(),
        rights: server.services.rights.clone(),
        advocacy: server.services.advocacy.clone(),
        commissioning: server.services.commissioning.clone(),
        services: server.services.clone(),
        client,
        server: Some(server),
        data_dir,
        through: None,
    }
}

/// The accounts scenarios cast, by the name they go by (their email is `NAME@example.org`):
/// the role, the hubs and the provider of each.
pub fn cast_account(name: &str) -> (Role, &'static [&'static str], Option<&'static str>) {
    match name {
        "member" => (Role::HubMember, &["arun"], None),
        "coordinator" => (Role::HubCoordinator, &["arun"], None),
        "crawley" => (Role::HubCoordinator, &["crawley"], None),
        "crawley.member" => (Role::HubMember, &["crawley"], None),
        "handler" => (Role::ComplaintsHandler, &[], None),
        "commissioner" => (Role::Commissioner, &[], None),
        "advocate" => (Role::Advocate, &[], None),
        "other.advocate" => (Role::Advocate, &[], None),
        "addaction" => (Role::ProviderResponder, &[], Some("addaction")),
        "cri" => (Role::ProviderResponder, &[], Some("cri")),
        "pharmacies" => (Role::ProviderResponder, &[], Some("community-pharmacies")),
        "admin" => (Role::Administrator, &[], None),
        other => panic!("no one called {other} in the cast"),
    }
}

/// One of each kind of staff, each logged in: a member and a coordinator of Arun, a complaints
/// handler, a commissioner, an advocate and an administrator.
pub struct Staff {
    pub app: TestApp,
    pub member: Session,
    pub coordinator: Session,
    pub handler: Session,
    pub commissioner: Session,
    pub advocate: Session,
    pub advocate_id: uuid::Uuid,
    pub admin: Session,
}

/// A fresh server with its [`Staff`].
pub async fn staff() -> Staff {
    staff_with(|_| {}).await
}

/// A fresh server, its settings changed by `change`, with its [`Staff`].
pub async fn staff_with(change: impl FnOnce(&mut Settings)) -> Staff {
    let app = spawn_app_with(change).await;
    let [(_, member), (_, coordinator), (_, handler), (_, commissioner), (advocate_id, advocate), (_, admin)] =
        app.people(["member", "coordinator", "handler", "commissioner", "advocate", "admin"]).await;
    Staff { app, member, coordinator, handler, commissioner, advocate, advocate_id, admin }
}

/// Arun's hub as the feedback scenarios see it, each person logged in: a member and a
/// coordinator of Arun, a commissioner, and Crawley's coordinator.
pub struct Hub {
    pub app: TestApp,
    pub member: Session,
    pub coordinator: Session,
    pub coordinator_id: String,
    pub commissioner: Session,
    /// The coordinator of another hub.
    pub crawley: Session,
}

/// A fresh server with Arun's [`Hub`].
pub async fn hub() -> Hub {
    let app = spawn_app().await;
    let [(_, member), (coordinator_id, coordinator), (_, commissioner), (_, crawley)] =
        app.people(["member", "coordinator", "commissioner", "crawley"]).await;
    Hub { app, member, coordinator, coordinator_id: coordinator_id.to_string(), commissioner, crawley }
}

/// A browser-like client logged in with a session cookie, which sends the CSRF token.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf_token: String,
    base: String,
    /// The same cookies, for posting a form without following where it answers to go.
    pub posting: reqwest::Client,
}

impl Session {
    /// Logs in through `login` at the server at `base` (`http://host:port`), like a browser;
    /// returns the GraphQL response when it fails.
    pub async fn log_in(base: &str, email: &str, password: &str) -> Result<Session, Value> {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder().cookie_provider(jar.clone()).build().expect("an HTTP client");
        let posting = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let response = post_graphql(
            client.post(format!("{base}/graphql")),
            "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { csrfToken } }",
            json!({ "email": email, "password": password }),
        )
        .await;
        match response["data"]["login"]["csrfToken"].as_str() {
            Some(csrf) => Ok(Session { client, csrf_token: csrf.to_owned(), base: base.to_owned(), posting }),
            None => Err(response),
        }
    }

    /// Posts GraphQL with the session cookie and the CSRF header.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        post_graphql(
            self.client.post(format!("{}/graphql", self.base)).header("X-CSRF-Token", &self.csrf_token),
            query,
            variables,
        )
        .await
    }

    /// Posts a form of the web UI to `path` as this person's browser would, with their session's
    /// CSRF token, and answers with the response itself: a redirect is not followed.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", self.csrf_token.as_str())];
        form.extend_from_slice(fields);
        self.posting.post(format!("{}{path}", self.base)).form(&form).send().await.expect("the form is answered")
    }

    /// Posts a form of the web UI to `path` as a browser without JavaScript posts it (the CSRF
    /// token in the form) and follows where it answers to go: the status, the address and the
    /// text of the page it lands on.
    pub async fn post_form_followed(&self, path: &str, fields: &[(&str, &str)]) -> (u16, reqwest::Url, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", self.csrf_token.as_str())];
        form.extend_from_slice(fields);
        let response =
            self.client.post(format!("{}{path}", self.base)).form(&form).send().await.expect("the form is answered");
        let (status, url) = (response.status().as_u16(), response.url().clone());
        (status, url, response.text().await.expect("the page is text"))
    }

    /// Posts a form that must succeed, and checks it answers as every successful form post in
    /// Heard does: `303 See Other` (post/redirect/get), so that refreshing the page it leads to,
    /// or going back, never sends the form again. Returns where it sends the browser.
    pub async fn submit_form(&self, path: &str, fields: &[(&str, &str)]) -> String {
        see_other(self.post_form(path, fields).await).await
    }

    /// Logs feedback (`input` is a `LogFeedbackInput`) and returns the new item's id, checking
    /// that it was logged.
    pub async fn log_feedback(&self, input: Value) -> String {
        let logged = self
            .graphql("mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }", json!({ "i": input }))
            .await;
        logged["data"]["logFeedback"]["id"].as_str().unwrap_or_else(|| panic!("not logged: {logged}")).to_owned()
    }

    /// Flags the feedback item `item` as a disclosure of risk for the coordinator `coordinator`
    /// to follow up, checking that it was flagged.
    pub async fn flag_safeguarding(&self, item: &str, coordinator: &str) {
        let query = "mutation($id: ID!, $c: ID!) { flagSafeguarding(id: $id, coordinatorId: $c) }";
        self.answers_true(query, json!({ "id": item, "c": coordinator }), "flagSafeguarding").await;
    }

    /// Changes this account's password from `current` to `new`, checking that it changed.
    pub async fn change_password(&self, current: &str, new: &str) {
        let query = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
        self.answers_true(query, json!({ "c": current, "n": new }), "changePassword").await;
    }

    /// Runs a mutation that answers `true` when it is done, and checks that `field` did.
    async fn answers_true(&self, query: &str, variables: Value, field: &str) {
        let answer = self.graphql(query, variables).await;
        assert_eq!(answer["data"][field], true, "{answer}");
    }

    /// Runs `mutation($id: ID!{args}) { call { fields } }` and returns what the mutation
    /// answered, checking that it answered an object (not an error).
    pub async fn mutate_by_id(&self, call: &str, args: &str, fields: &str, variables: Value) -> Value {
        let query = format!("mutation($id: ID!{args}) {{ {call} {{ {fields} }} }}");
        let response = self.graphql(&query, variables).await;
        let name = call.split('(').next().expect("a call starts with its name");
        assert!(response["data"][name].is_object(), "{call} failed: {response}");
        response["data"][name].clone()
    }
}

/// Sends a GraphQL request and returns the whole response body.
async fn post_graphql(request: reqwest::RequestBuilder, query: &str, variables: Value) -> Value {
    answer_json(request.json(&json!({ "query": query, "variables": variables }))).await
}

/// Sends a request and reads its answer as JSON, whatever its status.
pub async fn answer_json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("the request is answered").json().await.expect("the answer is JSON")
}

/// Sends a request, checks the status of the page that answers and returns its text (for the
/// error summary a refused form shows).
pub async fn page_with_status(request: reqwest::RequestBuilder, status: u16) -> String {
    let response = request.send().await.expect("the request is answered");
    assert_eq!(response.status(), status, "{}", response.url());
    response.text().await.expect("the page is text")
}

/// Checks that a form post answered `303 See Other` (post/redirect/get) and returns where it
/// sends the browser (its `Location`, a path on this site).
pub async fn see_other(response: reqwest::Response) -> String {
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|value| value.to_str().unwrap_or_default().to_owned());
    let url = response.url().to_string();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 303, "a successful form post to {url} answers 303 See Other, not {status}: {body}");
    location.unwrap_or_else(|| panic!("a 303 from {url} says where to go"))
}

/// The `extensions.code` of the first error of a GraphQL response, if any.
pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("the request is answered")
    }

    /// A POST of `body` as `content_type` to `path`, to send as it is or with more headers.
    pub fn post_body(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).header("content-type", content_type).body(body)
    }

    /// Posts a GraphQL query and returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let answer = post_graphql(self.graphql_post().await, query, variables).await;
        self.read_what_the_gateway_wrote().await;
        answer
    }

    /// After a request through the gateway: waits until this server has read, and its models
    /// applied, whatever the subgraphs wrote, so that a test may look into them.
    async fn read_what_the_gateway_wrote(&self) {
        let Some(through) = &self.through else { return };
        let written = (through.written)().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.store.head().position < written {
            assert!(std::time::Instant::now() < deadline, "this server never read up to {written}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.settled().await;
    }

    /// A POST to this server's `/graphql`, or to the gateway it is reached [`Through`] once
    /// every subgraph has read what this server wrote.
    async fn graphql_post(&self) -> reqwest::RequestBuilder {
        match &self.through {
            None => self.client.post(self.url("/graphql")),
            Some(through) => {
                (through.settle)(self.store.head().position).await;
                self.client.post(&through.url)
            }
        }
    }

    /// Creates an account directly through the identity service, with [`PASSWORD`].
    pub async fn create_user(&self, email: &str, roles: &[Role], hubs: &[&str]) -> uuid::Uuid {
        self.create_user_with(email, roles, hubs, None).await
    }

    pub async fn create_user_with(
        &self,
        email: &str,
        roles: &[Role],
        hubs: &[&str],
        provider: Option<&str>,
    ) -> uuid::Uuid {
        let new = NewAccount {
            email: email.into(),
            display_name: format!("Test {}", email.split('@').next().unwrap()),
            roles: roles.to_vec(),
            hubs: hubs.iter().map(|hub| hub.to_string()).collect(),
            provider: provider.map(Into::into),
            password: Some(PASSWORD.into()),
        };
        let (account, _) = self.identity.create_account(None, new).await.expect("the test account is created");
        account.id
    }

    /// Creates the named accounts of the cast (see [`cast_account`]) with [`PASSWORD`], in
    /// order, then logs each of them in: their ids and sessions, in the same order.
    pub async fn people<const N: usize>(&self, names: [&str; N]) -> [(uuid::Uuid, Session); N] {
        let mut ids = Vec::with_capacity(N);
        for name in names {
            let (role, hubs, provider) = cast_account(name);
            ids.push(self.create_user_with(&format!("{name}@example.org"), &[role], hubs, provider).await);
        }
        let mut people = Vec::with_capacity(N);
        for (name, id) in names.into_iter().zip(ids) {
            people.push((id, self.login(&format!("{name}@example.org")).await));
        }
        match people.try_into() {
            Ok(people) => people,
            Err(_) => unreachable!("one person a name"),
        }
    }

    /// Logs in through `login`, like a browser: the returned session keeps the cookie.
    pub async fn login(&self, email: &str) -> Session {
        self.try_login(email, PASSWORD).await.expect("the login succeeds")
    }

    /// Tries to log in; returns the GraphQL response when it fails.
    pub async fn try_login(&self, email: &str, password: &str) -> Result<Session, Value> {
        Session::log_in(&format!("http://{}", self.addr), email, password).await
    }

    /// An API token for an account, made directly through the identity service.
    pub async fn token_for(&self, account: uuid::Uuid) -> String {
        self.identity.create_token(account, account, "tests").await.expect("a token").1
    }

    /// Posts GraphQL with a bearer token.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let answer = post_graphql(self.graphql_post().await.bearer_auth(token), query, variables).await;
        self.read_what_the_gateway_wrote().await;
        answer
    }

    /// Shuts the server down gracefully (the store is flushed and closed).
    /// Waits until every service's model has applied everything in the log now. The models
    /// follow the log on their own, so a test that appends straight to the store, or reads one
    /// service after writing through another, waits on this condition rather than on time.
    pub async fn settled(&self) {
        let head = self.store.head().position;
        let within = std::time::Duration::from_secs(10);
        assert!(self.feedback.wait_searchable(head, within).await, "feedback never caught up with {head}");
        assert!(self.rights.caught_up().await, "rights never caught up with {head}");
        assert!(self.advocacy.caught_up().await, "advocacy never caught up with {head}");
        assert!(self.commissioning.caught_up().await, "commissioning never caught up with {head}");
        assert!(self.services.privacy.caught_up().await, "privacy never caught up with {head}");
    }

    /// A feedback item as `session` sees it once every model has settled, checking that its
    /// loop has reached `wanted`. `query` takes `$id` and selects `feedbackItem`.
    pub async fn item_in_loop(&self, session: &Session, query: &str, id: &str, wanted: &str) -> Value {
        self.settled().await;
        let seen = session.graphql(query, json!({ "id": id })).await;
        assert_eq!(seen["data"]["feedbackItem"]["loopState"], wanted, "{seen}");
        seen["data"]["feedbackItem"].clone()
    }

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
    BINARY.get_or_init(|| built_binary("heard", "heard")).clone()
}

/// The path of the `heard-bench` binary (`tools/bench`), built (or brought up to date) on first
/// use: the crash tests drive the log through its `append` benchmark.
pub fn heard_bench_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| built_binary("heard-bench", "heard-bench")).clone()
}

/// Builds `bin` of `package` in the workspace's target directory and returns its path.
fn built_binary(package: &str, bin: &str) -> PathBuf {
    let workspace = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(&workspace)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the {bin} binary failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    let binary = target.join("debug").join(bin);
    assert!(binary.exists(), "no binary at {}", binary.display());
    binary
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

/// `text` as a page puts it in an address: every byte but letters, digits and `-_.~` as `%XX`.
pub fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh schema in the test database at 127.0.0.1:5432 (trust auth; `scripts/test` starts
/// PostgreSQL), dropped with every session still in it when the test ends, so PostgreSQL tests
/// run in parallel and a server left running cannot hold the drop up.
pub struct PgSchema(heard_eventstore::testing::TestSchema);

impl PgSchema {
    pub fn new() -> Self {
        PgSchema(heard_eventstore::testing::TestSchema::create("heard_e2e"))
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// A `store.url` whose connections work in this schema (and are named after it).
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// Points `settings` at this schema: `store.backend = "postgres"` and its `store.url`.
    pub fn serve_from(&self, settings: &mut Settings) {
        settings.store.backend = heard_eventstore::BackendKind::Postgres;
        settings.store.url = Some(self.url());
    }

    /// Runs `sql` with `psql` in the test database and returns what it printed (unaligned,
    /// tuples only).
    pub fn psql(&self, sql: &str) -> String {
        let output = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-A", "-t", "-c", sql])
            .env("PGOPTIONS", format!("-c search_path={}", self.0.name()))
            .output()
            .expect("psql runs (PostgreSQL's client; scripts/test installs and starts PostgreSQL)");
        assert!(
            output.status.success(),
            "psql {sql}: {}; is PostgreSQL running at 127.0.0.1:5432? scripts/test starts it",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Default for PgSchema {
    fn default() -> Self {
        Self::new()
    }
}

/// Posts GraphQL to `base` with a bearer token; `Err` when the server did not answer (a process
/// test may have killed it).
pub async fn ask_with_token(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<Value, String> {
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .map_err(|error| error.to_string())?;
    response.json::<Value>().await.map_err(|error| error.to_string())
}
