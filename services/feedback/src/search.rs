//! The search index: a tantivy projection of feedback.
//!
//! One document per item that may be searched by anyone: safeguarding items and items whose
//! consent was withdrawn are never in it. Each document carries two texts:
//! - `text_hub`, the original words, searched only for members of the item's hub;
//! - `text_shared`, the redacted words, filled in only once a coordinator shared the item, and
//!   searched by people outside the hub within the speaker's consent.
//!
//! So nothing unredacted is ever indexed for anyone outside the hub. Every hit is checked
//! again against the policy (`heard_access::feedback_view`) before it is shown.
//!
//! The index lives in `DATA/search/<generation>/`; `DATA/search/CURRENT` names the live one.
//! Each commit stores the log position applied so far as its payload.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use heard_access::{Actor, Consent, FeedbackReach, SharedReach};
use tantivy::collector::{Count, FacetCollector, FacetCounts, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, TantivyDocument, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, Term, doc};
use uuid::Uuid;

use crate::domain::{Item, Moderation};

/// How long each search of the index took, successful or not, in this process (for
/// `/metrics`: `heard_search_seconds`).
pub static SEARCH_SECONDS: heard_eventstore::LatencyHistogram = heard_eventstore::LatencyHistogram::new();

#[derive(Clone, Copy, Debug)]
struct Fields {
    id: Field,
    hub: Field,
    text_hub: Field,
    text_shared: Field,
    /// 0: hub only; 1: commissioners (and the provider); 2: public.
    reach: Field,
    provider: Field,
    channel: Field,
    theme: Field,
    loop_state: Field,
    /// Days since 1970-01-01.
    day: Field,
    facets: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        hub: builder.add_text_field("hub", STRING | STORED),
        text_hub: builder.add_text_field("text_hub", TEXT | STORED),
        text_shared: builder.add_text_field("text_shared", TEXT | STORED),
        reach: builder.add_u64_field("reach", INDEXED | FAST),
        provider: builder.add_text_field("provider", STRING),
        channel: builder.add_text_field("channel", STRING),
        theme: builder.add_text_field("theme", STRING),
        loop_state: builder.add_text_field("loop", STRING),
        day: builder.add_i64_field("day", INDEXED | FAST | STORED),
        facets: builder.add_facet_field("facets", FacetOptions::default()),
    };
    (builder.build(), fields)
}

/// Search errors are internal: the index is ours, not the user's input.
pub type SearchResult<T> = Result<T, tantivy::TantivyError>;

/// The live index: a writer for the projection and a reader for queries.
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<Writer>,
    /// Held by a test to keep purges from starting.
    #[cfg(test)]
    purges_held: Mutex<()>,
}

/// How much memory tantivy's writer may use before it writes a segment.
const WRITER_BUDGET: usize = 64 * 1024 * 1024;

/// The index writer, and every change given to it since the last commit.
///
/// A commit the disk refused (a full disk) leaves tantivy's writer dead and the changes since
/// the last commit lost with it. They are kept here until a commit succeeds, so that the writer
/// can be rolled back to the last commit (or made anew) and given them again: the next commit,
/// once there is room, makes them searchable without a restart, and the position recorded
/// never passes a change the index lost. Only each item's latest change is kept (an item is
/// deleted, then added again if it may be searched), so an item removed (an erasure, consent
/// withdrawn) leaves no earlier version of its words here, and the list is at most one entry
/// an item changed since the last commit.
struct Writer {
    tantivy: IndexWriter,
    /// Each item changed since the last commit: its document now, or `None` once removed.
    since_commit: HashMap<String, Option<TantivyDocument>>,
}

impl Writer {
    fn delete(&mut self, id_field: Field, id: String) {
        self.tantivy.delete_term(Term::from_field_text(id_field, &id));
        self.since_commit.insert(id, None);
    }

    /// Adds the item's document (after [`Writer::delete`]).
    fn add(&mut self, id: String, document: TantivyDocument) {
        if let Err(error) = self.tantivy.add_document(document.clone()) {
            // Given again after the next failed commit (see `recover`).
            tracing::error!(%error, "search index refused a document");
        }
        self.since_commit.insert(id, Some(document));
    }

    /// Commits everything given so far with `position` as the payload. On failure the writer is
    /// recovered (see [`Writer::recover`]) and the error returned: the caller tries again later.
    fn commit(&mut self, index: &Index, id_field: Field, position: u64) -> SearchResult<()> {
        let committed = (|| {
            let mut prepared = self.tantivy.prepare_commit()?;
            prepared.set_payload(&position.to_string());
            prepared.commit()
        })();
        match committed {
            Ok(_) => {
                self.since_commit = HashMap::new();
                Ok(())
            }
            Err(error) => {
                self.recover(index, id_field);
                Err(error)
            }
        }
    }

    /// After a failed commit: back to the last commit, with a writer that works, and every change
    /// since given to it again. tantivy's `rollback` makes a new writer; should it fail (or
    /// panic, finding the old writer without its lock), a fresh writer is opened instead. If
    /// even that fails, the next commit fails too and comes back here.
    fn recover(&mut self, index: &Index, id_field: Field) {
        let rolled_back =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.tantivy.rollback())).is_ok_and(|r| r.is_ok());
        if !rolled_back {
            match index.writer(WRITER_BUDGET) {
                Ok(fresh) => self.tantivy = fresh,
                Err(error) => {
                    tracing::error!(%error, "the search index cannot open a writer; trying again at the next commit");
                    return;
                }
            }
        }
        for (id, document) in &self.since_commit {
            self.tantivy.delete_term(Term::from_field_text(id_field, id));
            if let Some(document) = document
                && let Err(error) = self.tantivy.add_document(document.clone())
            {
                tracing::error!(%error, "search index refused a document");
            }
        }
        tracing::warn!(
            changes = self.since_commit.len(),
            "the search index went back to its last commit and was given every change since again"
        );
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("dir", &self.dir).finish()
    }
}

/// Each word (or phrase) an item has adds this much to its score, so that an item with more of
/// the words always comes first; BM25 (a few dozen per word at most, even over millions of
/// items) only orders items that have as many of them.
const PER_WORD: f32 = 10_000.0;
/// The most results one search reaches: the last result a page may start from, and the most
/// rows a download holds. Deeper paging is refused, so no request makes the index rank millions.
pub const MAX_RESULTS: usize = 10_000;
/// How many words from the index are checked as what a misspelt word may have meant.
const MAX_VARIANTS: usize = 16;
/// The facet dimensions, in the order they are answered.
pub const DIMENSIONS: [&str; 5] = ["hub", "theme", "provider", "channel", "loop"];

/// Filters and paging of a search.
#[derive(Clone, Debug, Default)]
pub struct SearchRequest {
    pub text: String,
    pub hub: Option<String>,
    pub theme: Option<String>,
    pub provider: Option<String>,
    pub channel: Option<String>,
    pub loop_state: Option<String>,
    /// Inclusive days since the epoch.
    pub from_day: Option<i64>,
    pub to_day: Option<i64>,
    pub offset: usize,
    pub limit: usize,
    /// Only which items match, best first (a download): no passages, facets or spelling.
    pub items_only: bool,
}

impl SearchRequest {
    fn filter_of(&self, dimension: &str) -> Option<&str> {
        match dimension {
            "hub" => self.hub.as_deref(),
            "theme" => self.theme.as_deref(),
            "provider" => self.provider.as_deref(),
            "channel" => self.channel.as_deref(),
            "loop" => self.loop_state.as_deref(),
            _ => None,
        }
    }
}

/// One hit before the service checks it against the policy.
#[derive(Clone, Debug)]
pub struct Hit {
    pub item: Uuid,
    pub score: f32,
    /// The fragment of the version this asker sees, and where the matches are in it.
    pub fragment: String,
    pub highlights: Vec<(usize, usize)>,
}

#[derive(Clone, Debug, Default)]
pub struct SearchOutcome {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// (dimension, value, count), e.g. ("theme", "opening-hours", 12). A dimension with a value
    /// chosen is counted as if it were not chosen, so its other values stay in view.
    pub facets: Vec<(String, String, u64)>,
    /// False when no item has every word, and the hits are the items with most of them.
    pub every_word: bool,
    /// The search as it was understood, when a word nobody the asker may read wrote was taken
    /// for one they did ("evning clinc" → "evening clinic").
    pub understood_as: Option<String>,
}

/// What the spelling check found: the search as understood, and every word to mark in a passage.
struct Understood {
    understood_as: Option<String>,
    marked: Vec<String>,
}

type TextQuery<'a> = &'a dyn Fn(Field) -> Box<dyn Query>;

fn scoring_nothing(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, 0.0))
}

fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

impl SearchIndex {
    /// Opens the live index under `DATA/search`, creating an empty one if there is none.
    pub fn open(data_dir: &Path) -> SearchResult<SearchIndex> {
        let root = data_dir.join("search");
        let current = std::fs::read_to_string(root.join("CURRENT")).ok().map(|name| root.join(name.trim()));
        match current {
            Some(dir) if dir.exists() => Self::open_dir(&dir),
            _ => {
                let generation = format!("g{}", Uuid::now_v7().simple());
                let index = Self::create(&root.join(&generation))?;
                Self::set_current(&root, &generation)?;
                Ok(index)
            }
        }
    }

    /// Creates a fresh index in `dir` (for a rebuild: swapped in with [`Self::set_current`]).
    pub fn create(dir: &Path) -> SearchResult<SearchIndex> {
        std::fs::create_dir_all(dir)?;
        let (schema, _) = schema();
        Index::create_in_dir(dir, schema)?;
        Self::open_dir(dir)
    }

    fn open_dir(dir: &Path) -> SearchResult<SearchIndex> {
        let index = Index::open_in_dir(dir)?;
        let (_, fields) = schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer(WRITER_BUDGET)?;
        Ok(SearchIndex {
            dir: dir.to_owned(),
            index,
            fields,
            reader,
            writer: Mutex::new(Writer { tantivy: writer, since_commit: HashMap::new() }),
            #[cfg(test)]
            purges_held: Mutex::default(),
        })
    }

    /// Points `DATA/search/CURRENT` at `generation` (atomically, by rename).
    pub fn set_current(root: &Path, generation: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(root)?;
        let temporary = root.join("CURRENT.tmp");
        std::fs::write(&temporary, generation)?;
        std::fs::File::open(&temporary)?.sync_all()?;
        std::fs::rename(&temporary, root.join("CURRENT"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log position the last commit covered.
    pub fn applied_position(&self) -> u64 {
        self.index.load_metas().ok().and_then(|metas| metas.payload).and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    /// Replaces the item's document (or removes it when it may not be searched).
    pub fn upsert(&self, item: &Item) {
        let f = self.fields;
        let mut writer = self.writer();
        let id = item.logged.item.to_string();
        writer.delete(f.id, id.clone());
        let Some(hub_text) = item.hub_text() else { return };
        if item.safeguarding.is_some() || item.erased {
            return;
        }
        let reach = match (item.moderation == Moderation::Shared, item.consent) {
            (true, Some(Consent::Public)) => 2,
            (true, Some(Consent::Commissioners)) => 1,
            _ => 0,
        };
        let day = item.logged.said_on.parse::<jiff::civil::Date>().map(days).unwrap_or(0);
        let mut document = doc!(
            f.id => id.clone(),
            f.hub => item.logged.hub.clone(),
            f.text_hub => hub_text.to_owned(),
            f.reach => reach as u64,
            f.channel => item.logged.channel.as_str(),
            f.loop_state => item.loop_state.as_str(),
            f.day => day,
        );
        if reach > 0
            && let Some(shared) = item.shared_text()
        {
            document.add_text(f.text_shared, shared);
        }
        document.add_facet(f.facets, Facet::from_path(["hub", item.logged.hub.as_str()]));
        document.add_facet(f.facets, Facet::from_path(["channel", item.logged.channel.as_str()]));
        document.add_facet(f.facets, Facet::from_path(["loop", item.loop_state.as_str()]));
        if let Some(provider) = &item.logged.provider {
            document.add_text(f.provider, provider);
            document.add_facet(f.facets, Facet::from_path(["provider", provider.as_str()]));
        }
        for theme in &item.logged.themes {
            document.add_text(f.theme, theme);
            document.add_facet(f.facets, Facet::from_path(["theme", theme.as_str()]));
        }
        writer.add(id, document);
    }

    /// Removes an item (consent withdrawn, safeguarding, erasure).
    pub fn remove(&self, item: Uuid) {
        self.writer().delete(self.fields.id, item.to_string());
    }

    /// Makes everything added so far searchable and records `position` as applied.
    pub fn commit(&self, position: u64) -> SearchResult<()> {
        self.commit_locked(&mut self.writer(), position)?;
        self.reader.reload()
    }

    /// Commits with the writer held. The position recorded never goes back: a commit made
    /// for an erasure ([`Self::purge`]) may have covered more than a later routine one. A commit
    /// that fails leaves the writer able to try again with nothing lost (see [`Writer`]).
    fn commit_locked(&self, writer: &mut Writer, position: u64) -> SearchResult<()> {
        let position = position.max(self.applied_position());
        writer.commit(&self.index, self.fields.id, position)
    }

    /// Makes deleted documents physically gone (after an erasure): commits everything up to
    /// `position` (the erased items' documents were deleted before), merges every segment into
    /// one (a merge writes only the documents still alive, and drops every term no live
    /// document has), waits for it, and deletes the files no longer used. After it, no file of
    /// the index holds an erased item's words.
    ///
    /// The writer is held only to commit and to start the merge and the clean-up, not while
    /// they run: documents added meanwhile go to new segments, which hold no erased words (an
    /// erased item is never indexed again). Only the committer calls this, so no other commit
    /// runs during the merge. A segment the index was already merging in the background cannot
    /// join a merge: the merge is tried again until none is busy (each background merge takes
    /// milliseconds at Heard's sizes), for at most 30 s.
    pub fn purge(&self, position: u64) -> SearchResult<()> {
        const GIVE_UP_AFTER: std::time::Duration = std::time::Duration::from_secs(30);
        #[cfg(test)]
        let _held = self.purges_held.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        self.commit_locked(&mut self.writer(), position)?;
        loop {
            let segments = self.index.searchable_segment_ids()?;
            if segments.is_empty() {
                break;
            }
            let merging = self.writer().tantivy.merge(&segments);
            match merging.wait() {
                Ok(_) => break,
                Err(error) if started.elapsed() < GIVE_UP_AFTER => {
                    tracing::debug!(%error, "a segment is still merging; merging again");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(error) => return Err(error),
            }
        }
        let cleaning = self.writer().tantivy.garbage_collect_files();
        cleaning.wait()?;
        self.reader.reload()
    }

    /// The tokens of `text` (split and folded as the words were indexed) that some searchable
    /// segment's term dictionary of the words fields still holds, each once. The dictionaries
    /// keep their terms compressed, so reading the files' bytes cannot tell whether a word is
    /// still a term: after an erasure's purge, none of the erased words is (the tests ask).
    pub fn terms_held(&self, text: &str) -> SearchResult<Vec<String>> {
        let searcher = self.reader.searcher();
        let mut held: Vec<String> = Vec::new();
        for field in [self.fields.text_hub, self.fields.text_shared] {
            let mut tokenizer = self.index.tokenizer_for_field(field)?;
            let mut stream = tokenizer.token_stream(text);
            let mut tokens = Vec::new();
            while let Some(token) = stream.next() {
                tokens.push(token.text.clone());
            }
            for token in tokens {
                let term = Term::from_field_text(field, &token);
                for segment in searcher.segment_readers() {
                    let found = segment.inverted_index(field)?.terms().get(term.serialized_value_bytes())?.is_some();
                    if found && !held.contains(&token) {
                        held.push(token.clone());
                    }
                }
            }
        }
        Ok(held)
    }

    /// Keeps purges from starting until the guard drops (tests only).
    #[cfg(test)]
    pub(crate) fn hold_purges(&self) -> std::sync::MutexGuard<'_, ()> {
        self.purges_held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Searches as `actor`. Visibility is part of the query, so totals and facets count only
    /// what the asker may see.
    ///
    /// Every word must match first; when no item has them all, the items with most of them come
    /// back instead, best first (`every_word` is then false). Spelling suggestions and the words
    /// marked in passages come only from items the asker may read, in the version they read.
    ///
    /// Each search is timed into [`SEARCH_SECONDS`].
    pub fn search(&self, actor: &Actor, request: &SearchRequest) -> SearchResult<SearchOutcome> {
        let started = std::time::Instant::now();
        let outcome = self.search_untimed(actor, request);
        SEARCH_SECONDS.observe_since(started);
        outcome
    }

    fn search_untimed(&self, actor: &Actor, request: &SearchRequest) -> SearchResult<SearchOutcome> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let reach = heard_access::feedback_reach(actor);
        let words = Words::parse(&request.text);
        let tokens = words.tokens(&self.index, f.text_hub);
        let every = |field: Field| words.query_of(&tokens, field, Need::Every);
        let any = |field: Field| words.query_of(&tokens, field, Need::Any);
        let limit = request.limit.clamp(1, MAX_RESULTS);
        let offset = request.offset.min(MAX_RESULTS);
        let newest_first = words.is_empty();
        // Dimensions without a chosen value are counted in the same pass as the results.
        let unchosen: Vec<&str> = if request.items_only {
            Vec::new()
        } else {
            DIMENSIONS.into_iter().filter(|d| request.filter_of(d).is_none()).collect()
        };

        let mut every_word = true;
        let mut text: TextQuery<'_> = &every;
        let query = self.narrowed(&reach, text, request, None);
        let (mut top, mut total, mut facets) = self.run(&searcher, &query, newest_first, offset, limit, &unchosen)?;
        if total == 0 && tokens.len() > 1 {
            let fallback = self.narrowed(&reach, &any, request, None);
            let found = self.run(&searcher, &fallback, newest_first, offset, limit, &unchosen)?;
            if found.1 > 0 {
                (top, total, facets) = found;
                every_word = false;
                text = &any;
            }
        }
        if request.items_only {
            let mut hits = Vec::with_capacity(top.len());
            for (score, address) in top {
                let document: TantivyDocument = searcher.doc(address)?;
                if let Some(item) = first_text(&document, f.id).and_then(|id| Uuid::parse_str(&id).ok()) {
                    hits.push(Hit { item, score, fragment: String::new(), highlights: Vec::new() });
                }
            }
            return Ok(SearchOutcome { total, hits, facets: Vec::new(), every_word, understood_as: None });
        }
        for dimension in DIMENSIONS.into_iter().filter(|d| request.filter_of(d).is_some()) {
            let without_it = self.narrowed(&reach, text, request, Some(dimension));
            let mut collector = FacetCollector::for_field("facets");
            collector.add_facet(format!("/{dimension}").as_str());
            let counts = searcher.search(&without_it, &collector)?;
            let mut values = counted(&counts, &[dimension]);
            // The chosen value is always answered, even when nothing matches it now.
            if let Some(chosen) = request.filter_of(dimension)
                && !values.iter().any(|(_, value, _)| value == chosen)
            {
                values.push((dimension.to_owned(), chosen.to_owned(), 0));
            }
            facets.extend(values);
        }
        facets.sort_by_key(|(dimension, _, _)| DIMENSIONS.iter().position(|d| d == dimension));

        let understood = self.understand(&searcher, &reach, &tokens, request)?;
        let marking = |field: Field| -> Box<dyn Query> {
            if understood.marked.is_empty() {
                return Box::new(EmptyQuery);
            }
            Box::new(BooleanQuery::new(
                understood.marked.iter().map(|word| (Occur::Should, term_query(field, word))).collect(),
            ))
        };
        let generator = |field: Field| {
            SnippetGenerator::create(&searcher, &*marking(field), field).map(|mut generator| {
                generator.set_max_num_chars(300);
                generator
            })
        };
        let hub_snippets = generator(f.text_hub);
        let shared_snippets = generator(f.text_shared);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            let Some(item) = first_text(&document, f.id).and_then(|id| Uuid::parse_str(&id).ok()) else { continue };
            let hub = first_text(&document, f.hub).unwrap_or_default();
            let own_hub = reach.own_hubs.contains(&hub);
            let (generator, field) =
                if own_hub { (&hub_snippets, f.text_hub) } else { (&shared_snippets, f.text_shared) };
            let (fragment, highlights) = match generator {
                Ok(generator) => snippet(generator, field, &document),
                Err(_) => (String::new(), Vec::new()),
            };
            hits.push(Hit { item, score, fragment, highlights });
        }
        Ok(SearchOutcome { total, hits, facets, every_word, understood_as: understood.understood_as })
    }

    /// The items the asker may see whose words (in the version they see) match `text`: in
    /// their own hubs the original words, elsewhere the shared words within consent. Each item
    /// is in one branch only, so its words count once in its score.
    fn visible(&self, reach: &FeedbackReach, text: TextQuery<'_>) -> Box<dyn Query> {
        let f = self.fields;
        let mut branches: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for hub in &reach.own_hubs {
            let clause = BooleanQuery::new(vec![
                (Occur::Must, scoring_nothing(term_query(f.hub, hub))),
                (Occur::Must, text(f.text_hub)),
            ]);
            branches.push((Occur::Should, Box::new(clause)));
        }
        let reach_at_least = |level: u64| -> Box<dyn Query> {
            Box::new(RangeQuery::new(
                std::ops::Bound::Included(Term::from_field_u64(f.reach, level)),
                std::ops::Bound::Included(Term::from_field_u64(f.reach, 2)),
            ))
        };
        let outside = match &reach.shared {
            SharedReach::Commissioners => reach_at_least(1),
            SharedReach::Provider(provider) => Box::new(BooleanQuery::new(vec![
                (Occur::Should, reach_at_least(2)),
                (
                    Occur::Should,
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, reach_at_least(1)),
                        (Occur::Must, term_query(f.provider, provider)),
                    ])),
                ),
            ])),
            SharedReach::Public => reach_at_least(2),
        };
        let mut shared: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, scoring_nothing(outside)), (Occur::Must, text(f.text_shared))];
        for hub in &reach.own_hubs {
            shared.push((Occur::MustNot, term_query(f.hub, hub)));
        }
        branches.push((Occur::Should, Box::new(BooleanQuery::new(shared))));
        Box::new(BooleanQuery::new(branches))
    }

    /// What the asker may see that matches `text` and the request's filters, leaving out the
    /// filter of `except` (to count that dimension's other values).
    fn narrowed(
        &self,
        reach: &FeedbackReach,
        text: TextQuery<'_>,
        request: &SearchRequest,
        except: Option<&str>,
    ) -> BooleanQuery {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, self.visible(reach, text))];
        for (dimension, field) in [
            ("hub", f.hub),
            ("theme", f.theme),
            ("provider", f.provider),
            ("channel", f.channel),
            ("loop", f.loop_state),
        ] {
            if except == Some(dimension) {
                continue;
            }
            if let Some(value) = request.filter_of(dimension) {
                clauses.push((Occur::Must, scoring_nothing(term_query(field, value))));
            }
        }
        if request.from_day.is_some() || request.to_day.is_some() {
            let bound = |day: Option<i64>| match day {
                Some(day) => std::ops::Bound::Included(Term::from_field_i64(f.day, day)),
                None => std::ops::Bound::Unbounded,
            };
            let range = RangeQuery::new(bound(request.from_day), bound(request.to_day));
            clauses.push((Occur::Must, scoring_nothing(Box::new(range))));
        }
        BooleanQuery::new(clauses)
    }

    /// One page of `query` (best first, or newest first for a search without words), how many
    /// match, and the counts of the `dimensions` asked for.
    #[allow(clippy::type_complexity)]
    fn run(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        newest_first: bool,
        offset: usize,
        limit: usize,
        dimensions: &[&str],
    ) -> SearchResult<(Vec<(f32, DocAddress)>, usize, Vec<(String, String, u64)>)> {
        let mut collector = FacetCollector::for_field("facets");
        for dimension in dimensions {
            collector.add_facet(format!("/{dimension}").as_str());
        }
        let page = TopDocs::with_limit(limit).and_offset(offset);
        let (top, total, counts) = if newest_first {
            let by_day = page.order_by_fast_field::<i64>("day", Order::Desc);
            let (top, total, counts) = searcher.search(query, &(by_day, Count, collector))?;
            (top.into_iter().map(|(_, address)| (1.0, address)).collect(), total, counts)
        } else {
            searcher.search(query, &(page.order_by_score(), Count, collector))?
        };
        Ok((top, total, counted(&counts, dimensions)))
    }

    /// Which words to mark in passages, and the search as understood. Both come only from the
    /// items the asker may see, in the version they see: a word is taken for another only when
    /// the other is in such an item, so no suggestion carries a word from a hub's own record to
    /// someone outside the hub, nor from a shared item to someone it was not shared with.
    fn understand(
        &self,
        searcher: &Searcher,
        reach: &FeedbackReach,
        tokens: &[Token],
        request: &SearchRequest,
    ) -> SearchResult<Understood> {
        let f = self.fields;
        let readable = |word: &str| -> SearchResult<usize> {
            let text = |field: Field| term_query(field, word);
            searcher.search(&self.narrowed(reach, &text, request, None), &Count)
        };
        let fields: &[Field] = if reach.own_hubs.is_empty() { &[f.text_shared] } else { &[f.text_hub, f.text_shared] };
        let mut marked = Vec::new();
        let mut said = Vec::new();
        let mut changed = false;
        for token in tokens {
            match token {
                Token::Word(word) if word.chars().count() >= FUZZY_FROM_CHARS => {
                    marked.push(word.clone());
                    let mut best: Option<(usize, &String)> = None;
                    let variants = neighbours(searcher, fields, word)?;
                    for variant in &variants {
                        let count = readable(variant)?;
                        if count > 0 {
                            marked.push(variant.clone());
                            if best.is_none_or(|(most, _)| count > most) {
                                best = Some((count, variant));
                            }
                        }
                    }
                    match best {
                        Some((_, variant)) if readable(word)? == 0 => {
                            changed = true;
                            said.push(variant.clone());
                        }
                        _ => said.push(word.clone()),
                    }
                }
                Token::Word(word) | Token::Exact(word) => {
                    marked.push(word.clone());
                    said.push(word.clone());
                }
                Token::Phrase(words) => {
                    marked.extend(words.iter().cloned());
                    said.push(format!("\"{}\"", words.join(" ")));
                }
            }
        }
        Ok(Understood { understood_as: changed.then(|| said.join(" ")), marked })
    }
}

/// Words in the index one letter off `word` (missing, extra, wrong or swapped), the most
/// frequent first, at most [`MAX_VARIANTS`]. Whether the asker may read any of them is for the
/// caller to check: these come from every item's words.
fn neighbours(searcher: &Searcher, fields: &[Field], word: &str) -> SearchResult<Vec<String>> {
    let mut found: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for field in fields {
        for segment in searcher.segment_readers() {
            let automaton = FuzzyTermQuery::new(Term::from_field_text(*field, word), 1, true).automaton()?;
            let inverted = segment.inverted_index(*field)?;
            let mut stream = inverted.terms().search(automaton).into_stream()?;
            while stream.advance() {
                if let Ok(text) = std::str::from_utf8(stream.key())
                    && text != word
                {
                    *found.entry(text.to_owned()).or_default() += u64::from(stream.value().doc_freq);
                }
            }
        }
    }
    let mut variants: Vec<(String, u64)> = found.into_iter().collect();
    variants.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    variants.truncate(MAX_VARIANTS);
    Ok(variants.into_iter().map(|(text, _)| text).collect())
}

/// The counts of `dimensions` as (dimension, value, count).
fn counted(counts: &FacetCounts, dimensions: &[&str]) -> Vec<(String, String, u64)> {
    let mut found = Vec::new();
    for dimension in dimensions {
        for (facet, count) in counts.get(&format!("/{dimension}")) {
            let value = facet.to_path().last().map(|s| s.to_string()).unwrap_or_default();
            found.push((dimension.to_string(), value, count));
        }
    }
    found
}

/// The query language people get: words and "quoted phrases", with spelling tolerance on
/// longer words. There is no field syntax and nothing of tantivy's own query language:
/// `text_hub:name`, `+`, `-`, `*`, `~`, brackets and the rest are punctuation, and punctuation
/// only separates words. The query is built from these parts against the one field the caller
/// passes, so a search can never name another field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Words {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Word(String),
    Phrase(String),
}

/// A part of a search as the text fields were tokenised: a word (one letter off still matches,
/// from 4 letters), a word in quotes (exactly as written), or a phrase (its words in order).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Exact(String),
    Phrase(Vec<String>),
}

/// Whether an item needs every word and phrase, or any of them (ranked by how many it has).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    Every,
    Any,
}

/// At most this many words count; the rest of a very long query is ignored.
const MAX_WORDS: usize = 32;
/// Words shorter than this are matched exactly: one letter off "a" matches nearly everything.
const FUZZY_FROM_CHARS: usize = 4;

impl Words {
    /// Splits a search into words and "quoted phrases". An unclosed quote runs to the end.
    pub fn parse(text: &str) -> Words {
        let mut parts = Vec::new();
        for (index, piece) in text.split('"').enumerate() {
            let inside_quotes = index % 2 == 1;
            if inside_quotes {
                if !piece.trim().is_empty() {
                    parts.push(Part::Phrase(piece.to_owned()));
                }
            } else {
                parts.extend(piece.split_whitespace().map(|word| Part::Word(word.to_owned())));
            }
        }
        Words { parts }
    }

    /// Whether nothing was asked for (every document matches).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The words and phrases tokenised exactly as `field` was indexed ("text_hub:name" is three
    /// words), at most [`MAX_WORDS`] words in all.
    fn tokens(&self, index: &Index, field: Field) -> Vec<Token> {
        let Ok(mut tokenizer) = index.tokenizer_for_field(field) else { return Vec::new() };
        let mut split = |text: &str| -> Vec<String> {
            let mut words = Vec::new();
            let mut stream = tokenizer.token_stream(text);
            while let Some(token) = stream.next() {
                words.push(token.text.clone());
            }
            words
        };
        let mut tokens = Vec::new();
        let mut words = 0usize;
        for part in &self.parts {
            match part {
                Part::Word(word) => {
                    for text in split(word) {
                        if words >= MAX_WORDS {
                            break;
                        }
                        words += 1;
                        tokens.push(Token::Word(text));
                    }
                }
                Part::Phrase(phrase) => {
                    let mut terms = split(phrase);
                    terms.truncate(MAX_WORDS - words);
                    words += terms.len();
                    match terms.len() {
                        0 => {}
                        1 => tokens.push(Token::Exact(terms.remove(0))),
                        _ => tokens.push(Token::Phrase(terms)),
                    }
                }
            }
        }
        tokens
    }

    /// The query for `field`: every token, or any of them, each scored [`PER_WORD`] when an
    /// item has it plus BM25 when it has it exactly. An empty search matches everything; a
    /// search of punctuation alone matches nothing.
    fn query_of(&self, tokens: &[Token], field: Field, need: Need) -> Box<dyn Query> {
        if self.parts.is_empty() {
            return Box::new(AllQuery);
        }
        if tokens.is_empty() {
            return Box::new(EmptyQuery);
        }
        let occur = match need {
            Need::Every => Occur::Must,
            Need::Any => Occur::Should,
        };
        Box::new(BooleanQuery::new(tokens.iter().map(|token| (occur, token_query(token, field))).collect()))
    }
}

/// One token's query: [`PER_WORD`] when the item has it (one letter off allowed for words of 4
/// letters or more), and its BM25 score on top when the item has it exactly as written.
fn token_query(token: &Token, field: Field) -> Box<dyn Query> {
    let scored = |matched: Box<dyn Query>, exact: Box<dyn Query>| -> Box<dyn Query> {
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, Box::new(ConstScoreQuery::new(matched, PER_WORD))),
            (Occur::Should, exact),
        ]))
    };
    let exact = |text: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqsAndPositions))
    };
    match token {
        Token::Word(text) if text.chars().count() >= FUZZY_FROM_CHARS => {
            scored(Box::new(FuzzyTermQuery::new(Term::from_field_text(field, text), 1, true)), exact(text))
        }
        Token::Word(text) | Token::Exact(text) => scored(exact(text), exact(text)),
        Token::Phrase(words) => {
            let terms: Vec<Term> = words.iter().map(|word| Term::from_field_text(field, word)).collect();
            scored(Box::new(PhraseQuery::new(terms.clone())), Box::new(PhraseQuery::new(terms)))
        }
    }
}

fn first_text(document: &TantivyDocument, field: Field) -> Option<String> {
    document.get_first(field).and_then(|value| value.as_str()).map(str::to_owned)
}

fn snippet(generator: &SnippetGenerator, field: Field, document: &TantivyDocument) -> (String, Vec<(usize, usize)>) {
    let snippet = generator.snippet_from_doc(document);
    let fragment = snippet.fragment().to_owned();
    let highlights = snippet.highlighted().iter().map(|range| (range.start, range.end)).collect();
    if fragment.is_empty() {
        // No highlighted word (e.g. a fuzzy or filter-only match): show the start of the text.
        let text = document
            .get_first(field)
            .and_then(|value| value.as_str())
            .map(|text| text.chars().take(300).collect::<String>())
            .unwrap_or_default();
        return (text, Vec::new());
    }
    (fragment, highlights)
}

/// Days since 1970-01-01.
pub fn days(date: jiff::civil::Date) -> i64 {
    let epoch = jiff::civil::date(1970, 1, 1);
    epoch.until(date).map(|span| i64::from(span.get_days())).unwrap_or(0)
}

pub fn index_dir_name(dir: &Path) -> Option<String> {
    dir.file_name().map(|name| name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Part> {
        Words::parse(text).parts
    }

    fn query(text: &str, index: &Index, field: Field, need: Need) -> Box<dyn Query> {
        let words = Words::parse(text);
        let tokens = words.tokens(index, field);
        words.query_of(&tokens, field, need)
    }

    #[test]
    fn a_search_is_words_and_quoted_phrases_and_an_unclosed_quote_runs_to_the_end() {
        assert_eq!(
            words(r#"waiting "opening hours" staff"#),
            [Part::Word("waiting".into()), Part::Phrase("opening hours".into()), Part::Word("staff".into())]
        );
        assert_eq!(
            words(r#"night "used to see y"#),
            [Part::Word("night".into()), Part::Phrase("used to see y".into())]
        );
        assert!(Words::parse("   ").is_empty());
    }

    #[test]
    fn field_syntax_is_only_words_so_no_field_can_be_named() {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        for attack in
            ["text_hub:delphine", "text_hub:\"used to see y\"*", "speaker_name:x", "+id:[a TO z]", "hub:arun^9"]
        {
            for need in [Need::Every, Need::Any] {
                let query = query(attack, &index, fields.text_shared, need);
                let mut named = Vec::new();
                query.query_terms(&mut |term, _| named.push(term.field()));
                assert!(
                    !named.is_empty() && named.iter().all(|field| *field == fields.text_shared),
                    "{attack} reached another field: {query:?}"
                );
            }
        }
    }

    #[test]
    fn punctuation_alone_matches_nothing_and_an_empty_search_matches_everything() {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        for need in [Need::Every, Need::Any] {
            let nothing = query("*:^~", &index, fields.text_shared, need);
            assert!(format!("{nothing:?}").contains("EmptyQuery"), "{nothing:?}");
            let everything = query("", &index, fields.text_shared, need);
            assert!(format!("{everything:?}").contains("AllQuery"), "{everything:?}");
        }
    }

    /// An index in a temporary directory, and the items put into it.
    struct Fixture {
        _dir: tempfile::TempDir,
        index: SearchIndex,
    }

    /// An item of `hub`, said on `said_on`: shared within `consent` with `redacted` as its
    /// shared words when `shared` is set, otherwise kept in the hub.
    fn item(n: u128, hub: &str, text: &str, said_on: &str, shared: Option<(Consent, Option<&str>)>) -> Item {
        use crate::domain::{Channel, LoggedPersonal, SpeakerKind};
        let logged = crate::domain::FeedbackLogged {
            item: Uuid::from_u128(n),
            hub: hub.to_owned(),
            meeting: None,
            channel: if n.is_multiple_of(2) { Channel::DropIn } else { Channel::Forum },
            about: None,
            provider: Some("community-pharmacies".to_owned()),
            themes: std::collections::BTreeSet::from([
                if n.is_multiple_of(3) { "staff" } else { "opening-hours" }.to_owned()
            ]),
            speaker: SpeakerKind::Anonymous,
            consent: shared.map_or(Consent::Hub, |(consent, _)| consent),
            said_on: said_on.to_owned(),
            logged_by: Uuid::from_u128(1000),
            import_key: None,
        };
        let personal = LoggedPersonal { text: text.to_owned(), speaker: Default::default() };
        let mut item = Item::new(logged, Some(personal), 0);
        if let Some((_, redacted)) = shared {
            item.moderation = Moderation::Shared;
            item.redacted_text = redacted.map(str::to_owned);
        }
        item
    }

    fn fixture(items: &[Item]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::create(&dir.path().join("g1")).unwrap();
        for item in items {
            index.upsert(item);
        }
        index.commit(1).unwrap();
        Fixture { _dir: dir, index }
    }

    fn member_of(hub: &str) -> Actor {
        Actor {
            account: Some(Uuid::from_u128(7)),
            roles: std::collections::BTreeSet::from([heard_access::Role::HubMember]),
            hubs: std::collections::BTreeSet::from([hub.to_owned()]),
            provider: None,
        }
    }

    fn search(fixture: &Fixture, actor: &Actor, text: &str) -> SearchOutcome {
        let request = SearchRequest { text: text.to_owned(), limit: 20, ..SearchRequest::default() };
        fixture.index.search(actor, &request).unwrap()
    }

    fn ids(outcome: &SearchOutcome) -> Vec<u128> {
        outcome.hits.iter().map(|hit| hit.item.as_u128()).collect()
    }

    fn marked(hit: &Hit) -> Vec<String> {
        let chars: Vec<char> = hit.fragment.chars().collect();
        hit.highlights.iter().map(|(start, end)| chars[*start..*end].iter().collect()).collect()
    }

    #[test]
    fn when_no_item_has_every_word_the_items_with_most_of_them_come_first() {
        let fixture = fixture(&[
            item(1, "arun", "The evening clinic is too far away", "2026-11-01", None),
            item(2, "arun", "The clinic staff were kind", "2026-11-02", None),
            item(3, "arun", "Buses stop running in the evening", "2026-11-03", None),
            item(4, "arun", "Nothing to do with any of it", "2026-11-04", None),
        ]);
        let member = member_of("arun");
        let both = search(&fixture, &member, "evening clinic");
        assert!(both.every_word);
        assert_eq!(ids(&both), [1], "every word is needed while an item has them all");

        let most = search(&fixture, &member, "evening clinic buses");
        assert!(!most.every_word, "no item has all three");
        assert_eq!(most.total, 3);
        let order = ids(&most);
        assert!(order[0] == 1 || order[0] == 3, "an item with two of the words comes first: {order:?}");
        assert_eq!(order[2], 2, "the item with one of them comes last: {order:?}");
        let nothing = search(&fixture, &member, "helicopter submarine");
        assert_eq!(nothing.total, 0, "a word no item has matches nothing");
    }

    #[test]
    fn a_misspelt_search_says_what_it_was_taken_for_and_marks_the_words_it_matched() {
        let fixture = fixture(&[
            item(1, "arun", "The evening clinic is too far away", "2026-11-01", None),
            item(2, "arun", "I go to the clinic in the evenings", "2026-11-02", None),
        ]);
        let found = search(&fixture, &member_of("arun"), "evning clinc");
        assert_eq!(found.understood_as.as_deref(), Some("evening clinic"));
        assert_eq!(ids(&found), [1]);
        assert_eq!(marked(&found.hits[0]), ["evening", "clinic"]);
        let exact = search(&fixture, &member_of("arun"), "evening clinic");
        assert_eq!(exact.understood_as, None, "nothing to correct when every word is found as written");
    }

    #[test]
    fn a_spelling_suggestion_never_carries_a_word_the_asker_may_not_read() {
        let fixture = fixture(&[
            // Kept in Arun: its words are Arun's alone.
            item(1, "arun", "Quartermaine at the pharmacy was rude", "2026-11-01", None),
            // Shared publicly, with the name taken out of the shared words.
            item(
                2,
                "arun",
                "I used to see Delphine at the pharmacy",
                "2026-11-02",
                Some((Consent::Public, Some("I used to see [redacted] at the pharmacy"))),
            ),
            // Shared with commissioners only.
            item(3, "crawley", "The methadone queue is long", "2026-11-03", Some((Consent::Commissioners, None))),
        ]);
        let commissioner = Actor {
            account: Some(Uuid::from_u128(8)),
            roles: std::collections::BTreeSet::from([heard_access::Role::Commissioner]),
            ..Actor::default()
        };
        for (who, actor) in [
            ("anonymous", Actor::anonymous()),
            ("crawley", member_of("crawley")),
            ("commissioner", commissioner.clone()),
        ] {
            for misspelt in ["quartermane", "delphene", "delphin", "quatermaine"] {
                let found = search(&fixture, &actor, misspelt);
                assert_eq!(found.total, 0, "{who}: {misspelt}");
                assert_eq!(found.understood_as, None, "{who} is offered no word from Arun's own record: {misspelt}");
            }
        }
        for actor in [Actor::anonymous(), member_of("arun")] {
            let found = search(&fixture, &actor, "methadon");
            assert_eq!(found.understood_as, None, "a commissioners-only item lends no word: {found:?}");
        }
        assert_eq!(search(&fixture, &commissioner, "methadon").understood_as.as_deref(), Some("methadone"));
        let arun = search(&fixture, &member_of("arun"), "quartermane");
        assert_eq!(arun.understood_as.as_deref(), Some("quartermaine"), "the hub reads its own words");
        assert_eq!(search(&fixture, &member_of("arun"), "delphene").understood_as.as_deref(), Some("delphine"));
    }

    #[test]
    fn a_chosen_facet_leaves_the_other_values_of_its_dimension_counted() {
        let fixture = fixture(&[
            item(1, "arun", "The clinic opens late", "2026-11-01", Some((Consent::Public, None))),
            item(2, "crawley", "The clinic closes early", "2026-11-02", Some((Consent::Public, None))),
            item(3, "crawley", "The clinic was shut", "2026-11-03", Some((Consent::Public, None))),
        ]);
        let request =
            SearchRequest { text: "clinic".into(), hub: Some("crawley".into()), limit: 20, ..SearchRequest::default() };
        let found = fixture.index.search(&Actor::anonymous(), &request).unwrap();
        assert_eq!(found.total, 2);
        let hubs: Vec<(String, u64)> =
            found.facets.iter().filter(|f| f.0 == "hub").map(|f| (f.1.clone(), f.2)).collect();
        assert_eq!(hubs, [("arun".to_owned(), 1), ("crawley".to_owned(), 2)]);
        let channels: u64 = found.facets.iter().filter(|f| f.0 == "channel").map(|f| f.2).sum();
        assert_eq!(channels, 2, "other dimensions count within the chosen hub");
    }

    #[test]
    fn a_search_without_words_lists_the_newest_first_and_paging_stops_at_the_most_results() {
        let fixture = fixture(&[
            item(1, "arun", "First", "2026-10-01", None),
            item(2, "arun", "Third", "2026-12-01", None),
            item(3, "arun", "Second", "2026-11-01", None),
        ]);
        assert_eq!(ids(&search(&fixture, &member_of("arun"), "")), [2, 3, 1]);
        let far = SearchRequest { offset: usize::MAX, limit: usize::MAX, ..SearchRequest::default() };
        let found = fixture.index.search(&member_of("arun"), &far).unwrap();
        assert_eq!((found.total, found.hits.len()), (3, 0), "an offset past the end finds no page, and no panic");
    }

    #[test]
    fn what_a_failed_commit_lost_is_given_again_so_the_next_commit_finds_it_and_a_removed_item_stays_out() {
        let fixture = fixture(&[item(1, "arun", "The evening clinic closed early", "2026-11-01", None)]);
        fixture.index.upsert(&item(2, "arun", "The evening bus never came", "2026-11-02", None));
        fixture.index.upsert(&item(3, "arun", "The evening meal was cold", "2026-11-03", None));
        fixture.index.remove(Uuid::from_u128(3));
        {
            // As after a commit the disk refused: what the writer held since the last commit is
            // lost (rolled back here), then the writer is recovered with every change since.
            let mut writer = fixture.index.writer();
            writer.tantivy.rollback().unwrap();
            writer.recover(&fixture.index.index, fixture.index.fields.id);
            let removed = Uuid::from_u128(3).to_string();
            assert_eq!(
                writer.since_commit.get(&removed),
                Some(&None),
                "a removed item's words are not kept for a retry"
            );
        }
        fixture.index.commit(2).unwrap();
        let mut found = ids(&search(&fixture, &member_of("arun"), "evening"));
        found.sort_unstable();
        assert_eq!(found, [1, 2], "the item given before the failed commit is found; the removed one is not");
        assert_eq!(fixture.index.applied_position(), 2);
        assert!(fixture.index.writer().since_commit.is_empty(), "nothing is kept once a commit succeeds");
    }
}
