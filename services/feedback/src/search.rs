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

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use heard_access::{Actor, Consent, SharedReach};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, TantivyDocument, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term, doc};
use uuid::Uuid;

use crate::domain::{Item, Moderation};

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
    writer: Mutex<IndexWriter>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("dir", &self.dir).finish()
    }
}

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
    /// (dimension, value, count), e.g. ("theme", "opening-hours", 12).
    pub facets: Vec<(String, String, u64)>,
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
        let writer = index.writer(64 * 1024 * 1024)?;
        Ok(SearchIndex { dir: dir.to_owned(), index, fields, reader, writer: Mutex::new(writer) })
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
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let id = item.logged.item.to_string();
        writer.delete_term(Term::from_field_text(f.id, &id));
        let Some(hub_text) = item.hub_text() else { return };
        if item.safeguarding.is_some() {
            return;
        }
        let reach = match (item.moderation == Moderation::Shared, item.consent) {
            (true, Some(Consent::Public)) => 2,
            (true, Some(Consent::Commissioners)) => 1,
            _ => 0,
        };
        let day = item.logged.said_on.parse::<jiff::civil::Date>().map(days).unwrap_or(0);
        let mut document = doc!(
            f.id => id,
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
        if let Err(error) = writer.add_document(document) {
            tracing::error!(%error, "search index refused a document");
        }
    }

    /// Removes an item (consent withdrawn, safeguarding, erasure).
    pub fn remove(&self, item: Uuid) {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_term(Term::from_field_text(self.fields.id, &item.to_string()));
    }

    /// Makes everything added so far searchable and records `position` as applied.
    pub fn commit(&self, position: u64) -> SearchResult<()> {
        {
            let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&position.to_string());
            prepared.commit()?;
        }
        self.reader.reload()
    }

    /// Searches as `actor`. Visibility is part of the query, so totals and facets count only
    /// what the asker may see.
    pub fn search(&self, actor: &Actor, request: &SearchRequest) -> SearchResult<SearchOutcome> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let words = Words::parse(&request.text);
        let parse = |field: Field| -> Box<dyn Query> { words.query(&self.index, field, Spelling::Tolerant) };
        let exact = |field: Field| -> Box<dyn Query> { words.query(&self.index, field, Spelling::Exact) };
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };

        // Who may see what, as query clauses, from the same reach `feedback_view` judges with.
        let reach = heard_access::feedback_reach(actor);
        let mut visible: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for hub in &reach.own_hubs {
            let clause = BooleanQuery::new(vec![(Occur::Must, term(f.hub, hub)), (Occur::Must, parse(f.text_hub))]);
            visible.push((Occur::Should, Box::new(clause)));
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
                        (Occur::Must, term(f.provider, provider)),
                    ])),
                ),
            ])),
            SharedReach::Public => reach_at_least(2),
        };
        visible.push((
            Occur::Should,
            Box::new(BooleanQuery::new(vec![(Occur::Must, outside), (Occur::Must, parse(f.text_shared))])),
        ));

        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(visible)))];
        for (field, value) in [
            (f.hub, &request.hub),
            (f.theme, &request.theme),
            (f.provider, &request.provider),
            (f.channel, &request.channel),
            (f.loop_state, &request.loop_state),
        ] {
            if let Some(value) = value {
                clauses.push((Occur::Must, term(field, value)));
            }
        }
        if request.from_day.is_some() || request.to_day.is_some() {
            let bound = |day: Option<i64>| match day {
                Some(day) => std::ops::Bound::Included(Term::from_field_i64(f.day, day)),
                None => std::ops::Bound::Unbounded,
            };
            clauses.push((Occur::Must, Box::new(RangeQuery::new(bound(request.from_day), bound(request.to_day)))));
        }
        let query = BooleanQuery::new(clauses);

        let mut facets = FacetCollector::for_field("facets");
        for dimension in ["/hub", "/theme", "/provider", "/channel", "/loop"] {
            facets.add_facet(dimension);
        }
        let limit = request.limit.clamp(1, 100);
        let (top, total, facet_counts) = searcher
            .search(&query, &(TopDocs::with_limit(limit).and_offset(request.offset).order_by_score(), Count, facets))?;

        let generator = |field: Field| {
            SnippetGenerator::create(&searcher, &*exact(field), field).map(|mut generator| {
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
        let mut counted = Vec::new();
        for dimension in ["hub", "theme", "provider", "channel", "loop"] {
            for (facet, count) in facet_counts.get(&format!("/{dimension}")) {
                let value = facet.to_path().last().map(|s| s.to_string()).unwrap_or_default();
                counted.push((dimension.to_owned(), value, count));
            }
        }
        Ok(SearchOutcome { total, hits, facets: counted })
    }
}

/// The query language people get: words and "quoted phrases", every one required, with
/// spelling tolerance on longer words. There is no field syntax and nothing of tantivy's own
/// query language: `text_hub:name`, `+`, `-`, `*`, `~`, brackets and the rest are punctuation,
/// and punctuation only separates words. The query is built from these parts against the one
/// field the caller passes, so a search can never name another field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Words {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Word(String),
    Phrase(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spelling {
    /// One letter wrong, missing, extra or swapped still matches (words of 4 letters or more).
    Tolerant,
    /// Only the words as written: for highlighting.
    Exact,
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

    /// The query for `field`: every word and phrase must match, each tokenised exactly as the
    /// field was indexed. An empty search matches everything; a search of punctuation alone
    /// matches nothing.
    fn query(&self, index: &Index, field: Field, spelling: Spelling) -> Box<dyn Query> {
        if self.parts.is_empty() {
            return Box::new(AllQuery);
        }
        let Ok(mut tokenizer) = index.tokenizer_for_field(field) else { return Box::new(EmptyQuery) };
        let mut tokens_of = |text: &str| -> Vec<Term> {
            let mut terms = Vec::new();
            let mut stream = tokenizer.token_stream(text);
            while let Some(token) = stream.next() {
                terms.push(Term::from_field_text(field, &token.text));
            }
            terms
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut words = 0usize;
        for part in &self.parts {
            if words >= MAX_WORDS {
                break;
            }
            match part {
                Part::Word(word) => {
                    // "text_hub:name" is three words, all of which must be in the text.
                    for term in tokens_of(word) {
                        words += 1;
                        if words > MAX_WORDS {
                            break;
                        }
                        clauses.push((Occur::Must, word_query(term, spelling)));
                    }
                }
                Part::Phrase(phrase) => {
                    let mut terms = tokens_of(phrase);
                    terms.truncate(MAX_WORDS - words);
                    words += terms.len();
                    match terms.len() {
                        0 => {}
                        1 => clauses.push((Occur::Must, word_query(terms.remove(0), Spelling::Exact))),
                        _ => clauses.push((Occur::Must, Box::new(PhraseQuery::new(terms)))),
                    }
                }
            }
        }
        if clauses.is_empty() {
            return Box::new(EmptyQuery);
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

fn word_query(term: Term, spelling: Spelling) -> Box<dyn Query> {
    let long_enough = term.value().as_str().is_some_and(|text| text.chars().count() >= FUZZY_FROM_CHARS);
    if spelling == Spelling::Tolerant && long_enough {
        Box::new(FuzzyTermQuery::new(term, 1, true))
    } else {
        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqsAndPositions))
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
            let query = Words::parse(attack).query(&index, fields.text_shared, Spelling::Exact);
            let mut named = Vec::new();
            query.query_terms(&mut |term, _| named.push(term.field()));
            assert!(
                !named.is_empty() && named.iter().all(|field| *field == fields.text_shared),
                "{attack} reached another field: {query:?}"
            );
        }
    }

    #[test]
    fn punctuation_alone_matches_nothing_and_an_empty_search_matches_everything() {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        let nothing = Words::parse("*:^~").query(&index, fields.text_shared, Spelling::Tolerant);
        assert!(format!("{nothing:?}").contains("EmptyQuery"), "{nothing:?}");
        let everything = Words::parse("").query(&index, fields.text_shared, Spelling::Tolerant);
        assert!(format!("{everything:?}").contains("AllQuery"), "{everything:?}");
    }
}
