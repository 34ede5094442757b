//! `heard-bench search` and `heard-bench log-feedback`: feedback search in tantivy against
//! PostgreSQL full-text search, and logging feedback over HTTP. Figures, never assertions; see
//! `BENCHMARKS.md`.
//!
//! The search corpus is synthetic but worded like real feedback: the sentences of the demo data
//! set (`heard_demo::feedback`), recombined at random across items, so the vocabulary and the
//! word frequencies are those of the demo, at any size. The same seed always gives the same
//! corpus and the same queries.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use heard_access::{Actor, Consent, Role};
use heard_demo::Rng;
use heard_demo::feedback::{self as demo, DemoItem};
use heard_feedback::domain::{
    Channel, ConsentChanged, Event, FeedbackLogged, FeedbackRedacted, FeedbackShared, Item, LoggedPersonal, Moderation,
    RedactedPersonal, SafeguardingFlagged, SpeakerDetails, SpeakerKind,
};
use heard_feedback::search::{SearchIndex, SearchRequest, days};
use serde_json::{Value, json};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use heard::config::Settings;

use crate::store::{percentile, round};

/// The PostgreSQL server `heard-bench search` compares against, unless `--pg` says otherwise.
pub const DEFAULT_PG: &str = "host=127.0.0.1 user=postgres dbname=postgres";

/// Options of `heard-bench search`.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    pub items: usize,
    /// A tokio-postgres connection string (`key=value …` or a `postgresql://` URL).
    pub pg: String,
    /// Queries timed per kind.
    pub queries: usize,
    pub seed: u64,
}

/// Words that occur in the demo texts, common and rare.
pub(crate) const WORDS: [&str; 20] = [
    "appointment",
    "pharmacy",
    "keyworker",
    "bus",
    "detox",
    "interpreter",
    "methadone",
    "counselling",
    "weekend",
    "script",
    "receptionist",
    "benefits",
    "village",
    "leaflets",
    "injection",
    "voicemail",
    "library",
    "discharged",
    "relapsed",
    "hostel",
];

/// Two-word phrases that occur in the demo texts.
pub(crate) const PHRASES: [&str; 10] = [
    "waiting list",
    "first appointment",
    "supervised consumption",
    "bank holidays",
    "evening clinic",
    "mutual aid",
    "phone line",
    "detox bed",
    "care plan",
    "treatment agreement",
];

/// Words of [`WORDS`] misspelled by one edit (a letter dropped, added, changed or swapped).
const MISSPELT: [&str; 10] = [
    "apointment",
    "pharmacey",
    "keywroker",
    "detx",
    "interpretor",
    "methadon",
    "counseling",
    "recepionist",
    "benifits",
    "vilage",
];

/// The hubs of the reference table, which the filter queries take turns to filter by.
static HUBS: LazyLock<Vec<String>> =
    LazyLock::new(|| heard_identity::domain::exact_hubs().into_iter().map(|hub| hub.hub).collect());

/// The four kinds of query, in the order they are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word,
    Phrase,
    Fuzzy,
    FilterFacet,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Word, Kind::Phrase, Kind::Fuzzy, Kind::FilterFacet];

    fn key(self) -> &'static str {
        match self {
            Kind::Word => "word",
            Kind::Phrase => "phrase",
            Kind::Fuzzy => "fuzzy",
            Kind::FilterFacet => "filter_facet",
        }
    }

    /// The `n`th query of this kind: (text as typed, hub filter).
    fn query(self, n: usize) -> (String, Option<&'static str>) {
        match self {
            Kind::Word => (WORDS[n % WORDS.len()].to_owned(), None),
            Kind::Phrase => (PHRASES[n % PHRASES.len()].to_owned(), None),
            Kind::Fuzzy => (MISSPELT[n % MISSPELT.len()].to_owned(), None),
            Kind::FilterFacet => (WORDS[n % WORDS.len()].to_owned(), Some(HUBS[n % HUBS.len()].as_str())),
        }
    }
}

/// One sentence of a demo text, with what it came from.
struct Sentence {
    text: String,
    /// Index into the demo items.
    source: usize,
}

/// The demo texts cut into sentences: openings (the first sentence of an item, which carries
/// its point) and the rest (second points, names and places, closing remarks).
pub(crate) struct Pool {
    sources: Vec<DemoItem>,
    openings: Vec<Sentence>,
    rest: Vec<Sentence>,
}

impl Pool {
    pub(crate) fn new(seed: u64) -> Pool {
        let today = jiff::civil::date(2026, 11, 23);
        let mut sources = Vec::new();
        for k in 0..8 {
            sources.extend(demo::generate(seed.wrapping_mul(31).wrapping_add(k), today).items);
        }
        sources.retain(|source| !source.safeguarding);
        let mut openings = Vec::new();
        let mut rest = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            for (n, sentence) in source.item.text.split_inclusive(". ").enumerate() {
                let sentence = Sentence { text: sentence.trim().to_owned(), source: index };
                if n == 0 { openings.push(sentence) } else { rest.push(sentence) }
            }
        }
        Pool { sources, openings, rest }
    }

    /// A new text: an opening, sometimes spliced at a comma with another opening, then up to
    /// two sentences from other items. Returns the text, the item whose point it opens with,
    /// and the names and places in it that a hub would redact.
    pub(crate) fn compose(&self, rng: &mut Rng) -> (String, &DemoItem, Vec<String>) {
        let opening = &self.openings[rng.index(self.openings.len())];
        let mut text = opening.text.clone();
        let mut used = vec![opening.source];
        if rng.permille(250) {
            let other = &self.openings[rng.index(self.openings.len())];
            if let (Some(cut), Some(other_cut)) = (text.find(", "), other.text.find(", ")) {
                text = format!("{}{}", &text[..cut], &other.text[other_cut..]);
                used.push(other.source);
            }
        }
        for _ in 0..rng.index(3) {
            let sentence = &self.rest[rng.index(self.rest.len())];
            text.push(' ');
            text.push_str(&sentence.text);
            used.push(sentence.source);
        }
        let mut passages: Vec<String> = Vec::new();
        for source in used {
            for passage in &self.sources[source].redact {
                if text.contains(passage.as_str()) && !passages.contains(passage) {
                    passages.push(passage.clone());
                }
            }
        }
        (text, &self.sources[opening.source], passages)
    }
}

/// `n` items as the feedback service would hold them: spread over the seven hubs, the channels,
/// themes and providers of the demo, four years of dates, the three consents; about three in
/// five of those that may leave the hub shared (redacted first when they name someone), one in
/// a hundred flagged for safeguarding and one in two hundred with consent withdrawn.
fn corpus(n: usize, seed: u64) -> Vec<Item> {
    let pool = Pool::new(seed);
    let mut rng = Rng::new(seed);
    let first_day = jiff::civil::date(2023, 1, 1);
    let span_days = first_day.until(jiff::civil::date(2026, 11, 22)).map(|s| s.get_days()).unwrap_or(1400) as usize;
    let coordinator = rng.uuid();
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let (text, source, passages) = pool.compose(&mut rng);
        let said_on = first_day
            .checked_add(jiff::Span::new().days(rng.index(span_days + 1) as i64))
            .unwrap_or(first_day)
            .to_string();
        let roll = rng.index(100);
        let consent = if roll < 30 {
            Consent::Hub
        } else if roll < 75 {
            Consent::Commissioners
        } else {
            Consent::Public
        };
        let new = &source.item;
        let logged = FeedbackLogged {
            item: rng.uuid(),
            hub: new.hub.clone(),
            meeting: None,
            channel: new.channel.unwrap_or(Channel::DropIn),
            about: new.about.clone(),
            provider: new.provider.clone(),
            themes: new.themes.clone(),
            speaker: new.speaker.unwrap_or(SpeakerKind::Anonymous),
            consent,
            said_on,
            logged_by: coordinator,
            import_key: None,
        };
        let speaker = SpeakerDetails { name: new.speaker_name.clone(), contact: None };
        let mut item = Item::new(logged, Some(LoggedPersonal { text: text.clone(), speaker }), 0);
        if rng.permille(10) {
            item.apply(&Event::SafeguardingFlagged(SafeguardingFlagged { by: coordinator, coordinator }));
        } else if rng.permille(5) {
            item.apply(&Event::ConsentChanged(ConsentChanged { consent: None, by: coordinator }));
        } else if consent != Consent::Hub && rng.permille(600) {
            if !passages.is_empty() {
                let redacted = passages.iter().fold(text, |text, passage| text.replace(passage.as_str(), "[redacted]"));
                item.apply(&Event::Redacted(
                    FeedbackRedacted { by: coordinator, passages: passages.len() },
                    RedactedPersonal { text: redacted },
                ));
            }
            item.apply(&Event::Shared(FeedbackShared { by: coordinator }));
        }
        items.push(item);
    }
    items
}

/// The row PostgreSQL gets for an item: the same documents and fields as the tantivy index
/// (`SearchIndex::upsert`), or `None` for an item that index leaves out.
struct Row<'a> {
    id: Uuid,
    hub: &'a str,
    text_shared: Option<&'a str>,
    reach: i32,
    provider: Option<&'a str>,
    channel: &'a str,
    theme: Vec<&'a str>,
    day: i32,
}

fn row(item: &Item) -> Option<Row<'_>> {
    item.hub_text()?;
    if item.safeguarding.is_some() {
        return None;
    }
    let reach = match (item.moderation == Moderation::Shared, item.consent) {
        (true, Some(Consent::Public)) => 2,
        (true, Some(Consent::Commissioners)) => 1,
        _ => 0,
    };
    Some(Row {
        id: item.logged.item,
        hub: &item.logged.hub,
        text_shared: if reach > 0 { item.shared_text() } else { None },
        reach,
        provider: item.logged.provider.as_deref(),
        channel: item.logged.channel.as_str(),
        theme: item.logged.themes.iter().map(String::as_str).collect(),
        day: item.logged.said_on.parse::<jiff::civil::Date>().map(days).unwrap_or(0) as i32,
    })
}

/// Latencies of one kind of query, and how many matches they found on average.
#[derive(Clone, Debug, Default)]
struct Timings {
    latencies: Vec<Duration>,
    totals: u64,
}

impl Timings {
    fn record(&mut self, elapsed: Duration, total: u64) {
        self.latencies.push(elapsed);
        self.totals += total;
    }

    fn p(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        percentile(&sorted, p)
    }

    fn mean_total(&self) -> f64 {
        round(self.totals as f64 / self.latencies.len().max(1) as f64)
    }
}

/// What the tantivy half measured.
struct TantivyFigures {
    documents: usize,
    seconds: f64,
    kinds: BTreeMap<&'static str, Timings>,
}

/// Builds the index in a temporary directory and times the query mix as a commissioner.
fn tantivy_half(items: &[Item], queries: usize) -> anyhow::Result<TantivyFigures> {
    let dir = tempfile::tempdir().context("cannot make a temporary directory for the index")?;
    let index = SearchIndex::create(&dir.path().join("search"))?;
    let documents = items.iter().filter(|item| row(item).is_some()).count();
    eprintln!("tantivy: indexing {} items ({documents} searchable documents)", items.len());
    let started = Instant::now();
    for (n, item) in items.iter().enumerate() {
        index.upsert(item);
        if (n + 1) % 50_000 == 0 {
            index.commit(n as u64 + 1)?;
        }
    }
    index.commit(items.len() as u64)?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("tantivy: indexed in {seconds:.1} s; querying");

    let actor =
        Actor { account: Some(Uuid::new_v4()), roles: BTreeSet::from([Role::Commissioner]), ..Actor::default() };
    let request = |kind: Kind, n: usize| {
        let (text, hub) = kind.query(n);
        let text = if kind == Kind::Phrase { format!("\"{text}\"") } else { text };
        SearchRequest { text, hub: hub.map(str::to_owned), limit: 20, ..SearchRequest::default() }
    };
    let mut kinds = BTreeMap::new();
    for kind in Kind::ALL {
        // An untimed warm-up (every word × hub pair of filter+facet once), as for PostgreSQL.
        for n in 0..queries.min(WORDS.len() * HUBS.len()) {
            index.search(&actor, &request(kind, n))?;
        }
        let mut timings = Timings::default();
        for n in 0..queries {
            let request = request(kind, n);
            let sent = Instant::now();
            let outcome = index.search(&actor, &request)?;
            timings.record(sent.elapsed(), outcome.total as u64);
        }
        kinds.insert(kind.key(), timings);
    }
    drop(index);
    Ok(TantivyFigures { documents, seconds, kinds })
}

/// What the PostgreSQL half measured.
struct PgFigures {
    version: String,
    rows: u64,
    copy_seconds: f64,
    index_seconds: f64,
    analyze_seconds: f64,
    /// `None` when pg_trgm is not available and the fuzzy queries fall back to a tsquery.
    trigram_index_seconds: Option<f64>,
    kinds: BTreeMap<&'static str, Timings>,
}

impl PgFigures {
    fn load_seconds(&self) -> f64 {
        self.copy_seconds + self.index_seconds + self.analyze_seconds
    }
}

/// Loads the same documents into a fresh schema and times the same queries. The schema is
/// dropped afterwards whatever happened.
async fn pg_half(url: &str, items: &[Item], queries: usize) -> anyhow::Result<PgFigures> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL with `{url}`"))?;
    let connection = tokio::spawn(connection);
    let schema = format!("heard_bench_{}", &Uuid::new_v4().simple().to_string()[..12]);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.context("cannot create the bench schema")?;
    let outcome = pg_run(&client, &schema, items, queries).await;
    let dropped = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await;
    drop(client);
    let _ = connection.await;
    let figures = outcome?;
    dropped.with_context(|| format!("cannot drop the bench schema {schema}"))?;
    Ok(figures)
}

/// The statement one query of `kind` runs: matches counted, the 20 best with their text, and
/// for filter+facet the count per theme, in one round trip over one scan of the matches.
fn pg_statement(kind: Kind, trigram: bool) -> String {
    let matches = match kind {
        Kind::Word => "SELECT id, text_shared, theme, ts_rank(tsv, q) AS rank \
             FROM items, plainto_tsquery('english', $1) q WHERE reach >= 1 AND tsv @@ q"
            .to_owned(),
        Kind::Phrase => "SELECT id, text_shared, theme, ts_rank(tsv, q) AS rank \
             FROM items, phraseto_tsquery('english', $1) q WHERE reach >= 1 AND tsv @@ q"
            .to_owned(),
        Kind::Fuzzy if trigram => "SELECT id, text_shared, theme, word_similarity($1, text_shared) AS rank \
             FROM items WHERE reach >= 1 AND $1 <% text_shared"
            .to_owned(),
        Kind::Fuzzy => "SELECT id, text_shared, theme, ts_rank(tsv, q) AS rank \
             FROM items, plainto_tsquery('english', $1) q WHERE reach >= 1 AND tsv @@ q"
            .to_owned(),
        Kind::FilterFacet => "SELECT id, text_shared, theme, ts_rank(tsv, q) AS rank \
             FROM items, plainto_tsquery('english', $1) q WHERE reach >= 1 AND tsv @@ q AND hub = $2"
            .to_owned(),
    };
    let facets = if kind == Kind::FilterFacet {
        " UNION ALL (SELECT 'theme', NULL, t, count(*) FROM m, unnest(m.theme) t GROUP BY t)"
    } else {
        ""
    };
    format!(
        "WITH m AS MATERIALIZED ({matches}) \
         SELECT 'total'::text AS kind, NULL::uuid AS id, NULL::text AS label, count(*) AS n FROM m \
         UNION ALL (SELECT 'hit', id, text_shared, NULL FROM m ORDER BY rank DESC LIMIT 20){facets}"
    )
}

async fn pg_run(
    client: &tokio_postgres::Client,
    schema: &str,
    items: &[Item],
    queries: usize,
) -> anyhow::Result<PgFigures> {
    let version: String = client.query_one("SELECT version()", &[]).await?.get(0);
    // Session settings a DBA would use for this: room to build the GIN index and to hold a
    // match set in memory, and no JIT compilation on the big counts.
    client
        .batch_execute(&format!(
            "SET search_path = {schema}, public; SET maintenance_work_mem = '512MB'; \
             SET work_mem = '64MB'; SET jit = off"
        ))
        .await?;
    client
        .batch_execute(
            "CREATE TABLE items (id uuid, hub text, text_shared text, reach int, provider text, channel text, \
             theme text[], day int, \
             tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text_shared)) STORED)",
        )
        .await?;

    eprintln!("postgres: loading {} items", items.len());
    let started = Instant::now();
    let sink = client
        .copy_in("COPY items (id, hub, text_shared, reach, provider, channel, theme, day) FROM STDIN BINARY")
        .await?;
    let types = [Type::UUID, Type::TEXT, Type::TEXT, Type::INT4, Type::TEXT, Type::TEXT, Type::TEXT_ARRAY, Type::INT4];
    let writer = BinaryCopyInWriter::new(sink, &types);
    let mut writer = std::pin::pin!(writer);
    for row in items.iter().filter_map(row) {
        let values: [&(dyn ToSql + Sync); 8] =
            [&row.id, &row.hub, &row.text_shared, &row.reach, &row.provider, &row.channel, &row.theme, &row.day];
        writer.as_mut().write(&values).await?;
    }
    let rows = writer.as_mut().finish().await?;
    let copy_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    client.batch_execute("CREATE INDEX items_tsv ON items USING gin (tsv)").await?;
    client.batch_execute("CREATE INDEX items_hub ON items (hub)").await?;
    let index_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    client.batch_execute("ANALYZE items").await?;
    let analyze_seconds = started.elapsed().as_secs_f64();
    eprintln!("postgres: copied in {copy_seconds:.1} s, indexed in {index_seconds:.1} s");

    // Fuzzy matching needs pg_trgm; created in the bench schema so that dropping it removes it.
    let trigram = client.batch_execute(&format!("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA {schema}")).await;
    let trigram_index_seconds = match trigram {
        Ok(()) => {
            let started = Instant::now();
            client.batch_execute("CREATE INDEX items_trgm ON items USING gin (text_shared gin_trgm_ops)").await?;
            client.batch_execute("ANALYZE items").await?;
            let seconds = started.elapsed().as_secs_f64();
            eprintln!("postgres: trigram index in {seconds:.1} s");
            Some(seconds)
        }
        Err(error) => {
            eprintln!("postgres: pg_trgm is not available ({error}); fuzzy queries use the plain tsquery");
            None
        }
    };

    let mut kinds = BTreeMap::new();
    for kind in Kind::ALL {
        let statement = client.prepare(&pg_statement(kind, trigram_index_seconds.is_some())).await?;
        let run = |n: usize| {
            let statement = statement.clone();
            async move {
                let (text, hub) = kind.query(n);
                let hub = hub.unwrap_or_default();
                let params: Vec<&(dyn ToSql + Sync)> =
                    if kind == Kind::FilterFacet { vec![&text, &hub] } else { vec![&text] };
                let rows = client.query(&statement, &params).await?;
                let total =
                    rows.iter().find(|row| row.get::<_, &str>(0) == "total").map_or(0, |row| row.get::<_, i64>(3));
                anyhow::Ok(total as u64)
            }
        };
        for n in 0..queries.min(WORDS.len() * HUBS.len()) {
            run(n).await?;
        }
        let mut timings = Timings::default();
        for n in 0..queries {
            let sent = Instant::now();
            let total = run(n).await?;
            timings.record(sent.elapsed(), total);
        }
        kinds.insert(kind.key(), timings);
    }
    Ok(PgFigures { version, rows, copy_seconds, index_seconds, analyze_seconds, trigram_index_seconds, kinds })
}

/// `heard-bench search`: the same corpus and queries on tantivy and on PostgreSQL. Returns the
/// summary line; PostgreSQL fields are null (and `pg_error` says why) when it cannot be used.
pub async fn search(options: SearchOptions) -> anyhow::Result<Value> {
    anyhow::ensure!(options.items >= 1, "--items must be at least 1");
    anyhow::ensure!(options.queries >= 1, "--queries must be at least 1");
    let started = Instant::now();
    let (items, seed) = (options.items, options.seed);
    let items = Arc::new(tokio::task::spawn_blocking(move || corpus(items, seed)).await?);
    eprintln!("corpus: {} items generated in {:.1} s", items.len(), started.elapsed().as_secs_f64());
    let tantivy = tokio::task::spawn_blocking({
        let items = items.clone();
        let queries = options.queries;
        move || tantivy_half(&items, queries)
    })
    .await??;
    let pg = match pg_half(&options.pg, &items, options.queries).await {
        Ok(figures) => Ok(figures),
        Err(error) => {
            eprintln!("heard-bench search: PostgreSQL is not usable, so only tantivy is reported: {error:#}");
            Err(format!("{error:#}"))
        }
    };
    let items_count = items.len();
    let pg_figures = pg.as_ref().ok();
    let mut summary = json!({
        "items": items_count,
        "documents": tantivy.documents,
        "queries_per_kind": options.queries,
        "tantivy_index_seconds": round(tantivy.seconds),
        "tantivy_index_items_per_sec": round(items_count as f64 / tantivy.seconds),
        "pg_load_items_per_sec": pg_figures.map(|pg| round(items_count as f64 / pg.load_seconds())),
        "pg_rows": pg_figures.map(|pg| pg.rows),
        "pg_copy_seconds": pg_figures.map(|pg| round(pg.copy_seconds)),
        "pg_index_seconds": pg_figures.map(|pg| round(pg.index_seconds)),
        "pg_analyze_seconds": pg_figures.map(|pg| round(pg.analyze_seconds)),
        "pg_trgm_index_seconds": pg_figures.and_then(|pg| pg.trigram_index_seconds.map(round)),
        "pg_fuzzy": pg_figures.map(|pg| if pg.trigram_index_seconds.is_some() {
            "pg_trgm word_similarity (<%)"
        } else {
            "none: plainto_tsquery of the misspelt word"
        }),
        "pg_version": pg_figures.map(|pg| pg.version.clone()),
        "pg_error": pg.as_ref().err(),
    });
    for kind in Kind::ALL {
        let ours = &tantivy.kinds[kind.key()];
        let theirs = pg_figures.map(|pg| &pg.kinds[kind.key()]);
        let (tantivy_p99, pg_p99) = (ours.p(0.99), theirs.map(|t| t.p(0.99)));
        summary[kind.key()] = json!({
            "tantivy_p50_ms": round(ours.p(0.50)),
            "tantivy_p99_ms": round(tantivy_p99),
            "tantivy_mean_total": ours.mean_total(),
            "pg_p50_ms": theirs.map(|t| round(t.p(0.50))),
            "pg_p99_ms": pg_p99.map(round),
            "pg_mean_total": theirs.map(Timings::mean_total),
            "ratio_p99": pg_p99.map(|pg| round(tantivy_p99 / pg)),
        });
    }
    Ok(summary)
}

/// `heard-bench log-feedback`: C concurrent HTTP clients log N items through `logFeedback` on a
/// server started in process on a fresh data directory, with an API token of an Arun hub member;
/// with `store_url`, the log is a fresh schema of that PostgreSQL database.
pub async fn log_feedback(clients: usize, items: u64, store_url: Option<&str>) -> anyhow::Result<Value> {
    anyhow::ensure!(clients >= 1, "--clients must be at least 1");
    anyhow::ensure!(items >= 1, "--items must be at least 1");
    let dir = tempfile::tempdir().context("cannot make a temporary data directory")?;
    let schema = match store_url {
        Some(url) => Some(crate::pg_append::Schema::create_as(url, "--store-url").await?),
        None => None,
    };
    let mut settings =
        Settings { data_dir: dir.path().to_owned(), listen: "127.0.0.1:0".into(), ..Settings::default() };
    if let Some(schema) = &schema {
        settings.store.backend = heard_eventstore::BackendKind::Postgres;
        settings.store.url = Some(schema.url.clone());
    }
    let server = heard::server::start(&settings).await?;
    let account = heard_identity::NewAccount {
        email: "arun.bench@example.org".into(),
        display_name: "Arun bench".into(),
        roles: vec![Role::HubMember],
        hubs: vec!["arun".into()],
        provider: None,
        password: Some("a long bench passphrase".into()),
    };
    let (account, _) =
        server.services.identity.create_account(None, account).await.map_err(|e| anyhow::anyhow!(e.message()))?;
    let (_, token) = server
        .services
        .identity
        .create_token(account.id, account.id, "bench")
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    let texts: Arc<Vec<String>> = Arc::new(
        demo::generate(7, jiff::civil::date(2026, 11, 23))
            .items
            .into_iter()
            .filter(|item| !item.safeguarding)
            .map(|item| item.item.text)
            .collect(),
    );
    let url = format!("http://{}/graphql", server.addr);
    let commits_before = server.store.stats().commits;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (next, texts, url, token) = (next.clone(), texts.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().build()?;
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= items {
                    break;
                }
                let body = json!({
                    "query": "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
                    "variables": { "i": {
                        "hub": "arun",
                        "text": texts[n as usize % texts.len()],
                        "channel": "DROP_IN",
                        "saidOn": "2026-11-01",
                        "themes": ["Opening hours"],
                        "speaker": "ANONYMOUS",
                        "consent": "COMMISSIONERS",
                    } },
                });
                let sent = Instant::now();
                let response: Value = client.post(&url).bearer_auth(&token).json(&body).send().await?.json().await?;
                latencies.push(sent.elapsed());
                anyhow::ensure!(
                    response["data"]["logFeedback"]["id"].is_string(),
                    "logFeedback did not log the item: {response}"
                );
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(items as usize);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    let commits = server.store.stats().commits - commits_before;
    server.shutdown().await?;
    let reads_per_item = match schema {
        Some(schema) => {
            let reads = schema.reads_by_table().await?;
            schema.drop().await?;
            let per_item =
                reads.into_iter().map(|(table, n)| (table, json!(round(n.as_f64().unwrap_or(0.0) / items as f64))));
            Some(Value::Object(per_item.collect()))
        }
        None => None,
    };
    latencies.sort();
    let (sequential, batched) = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || crate::store::raw_fsync_rates(&dir)
    })
    .await??;
    let items_per_sec = items as f64 / seconds;
    Ok(json!({
        "items": items,
        "clients": clients,
        "store": if store_url.is_some() { "postgres" } else { "segments" },
        "table_reads_per_item": reads_per_item,
        "seconds": round(seconds),
        "items_per_sec": round(items_per_sec),
        "p50_ms": round(percentile(&latencies, 0.50)),
        "p99_ms": round(percentile(&latencies, 0.99)),
        "commits": commits,
        "items_per_commit": round(items as f64 / commits.max(1) as f64),
        "raw_fsync_sequential_per_sec": round(sequential),
        "raw_fsync_batch64_events_per_sec": round(batched),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_deterministic_and_spread_out() {
        let a = corpus(2000, 1);
        let b = corpus(2000, 1);
        assert!(a.iter().zip(&b).all(|(a, b)| a == b));
        let hubs: BTreeSet<&str> = a.iter().map(|item| item.logged.hub.as_str()).collect();
        assert_eq!(hubs.len(), 7);
        let shared = a.iter().filter(|item| row(item).is_some_and(|row| row.reach > 0)).count();
        assert!((600..1100).contains(&shared), "{shared} shared");
        let redacted = a.iter().filter(|item| item.redacted_text.is_some()).count();
        assert!(redacted > 0);
        assert!(a.iter().filter(|item| item.safeguarding.is_some()).count() > 0);
    }

    #[test]
    fn every_query_of_the_mix_finds_something_in_tantivy() {
        let items = corpus(5000, 1);
        let figures = tantivy_half(&items, 20).expect("the index builds and answers");
        for kind in Kind::ALL {
            assert!(figures.kinds[kind.key()].totals > 0, "{} found nothing", kind.key());
        }
    }

    #[test]
    fn the_filter_facet_statement_groups_by_theme() {
        assert!(pg_statement(Kind::FilterFacet, false).contains("GROUP BY t"));
        assert!(pg_statement(Kind::Fuzzy, true).contains("<%"));
        assert!(!pg_statement(Kind::Word, true).contains("GROUP BY"));
    }
}
