//! Every service of Heard, opened over one event store: what the server, the demo and the
//! tests hold.

use anyhow::Context as _;
use heard_advocacy::service::AdvocacyService;
use heard_commissioning::service::CommissioningService;
use heard_contracts::privacy::{PersonId, RecordRef, RetentionRules};
use heard_eventstore::{EventStore, ModelStore};
use heard_feedback::FeedbackService;
use heard_identity::IdentityService;
use heard_privacy::PrivacyService;
use heard_rights::service::RightsService;

use crate::config::Settings;

/// Every service, each over the same event store.
#[derive(Clone, Debug)]
pub struct Services {
    pub identity: IdentityService,
    pub feedback: FeedbackService,
    pub rights: RightsService,
    pub advocacy: AdvocacyService,
    pub commissioning: CommissioningService,
    pub privacy: PrivacyService,
}

impl Services {
    /// Opens every service over `store`, each catching up with the log.
    pub async fn open(store: &EventStore, settings: &Settings) -> anyhow::Result<Services> {
        let models = open_models(settings)?;
        let identity = open_identity(store, settings, &models).await?;
        let feedback = open_feedback(store, settings, &models, &identity).await?;
        let rights = open_rights(store, settings, &models).await?;
        let advocacy = open_advocacy(store, &models).await?;
        let commissioning = open_commissioning(store, settings, &models).await?;
        // Opened last: if Heard stopped in the middle of an erasure, its keys are destroyed
        // here, before anything is served.
        let privacy = open_privacy(store, &models).await?;
        Ok(Services { identity, feedback, rights, advocacy, commissioning, privacy })
    }

    /// The services the demo data set seeds (`heard serve --demo`).
    pub fn demo(&self) -> heard_demo::Services<'_> {
        heard_demo::Services {
            identity: &self.identity,
            feedback: &self.feedback,
            rights: &self.rights,
            advocacy: &self.advocacy,
            commissioning: &self.commissioning,
        }
    }

    /// Waits for every service's follower to stop after the store closed.
    pub async fn stopped(&self) {
        self.identity.stopped().await;
        self.feedback.stopped().await;
        self.rights.stopped().await;
        self.advocacy.stopped().await;
        self.commissioning.stopped().await;
        self.privacy.stopped().await;
    }

    /// The records whose retention period has ended on `today` under `rules`, from each service
    /// that owns records: what the retention job (`heard serve`'s daily run, `heard retention`)
    /// erases.
    pub fn due_for_retention(&self, today: jiff::civil::Date, rules: &RetentionRules) -> Vec<RecordRef> {
        let mut due: Vec<RecordRef> = Vec::new();
        due.extend(self.feedback.due_for_retention(today, rules));
        due.extend(self.advocacy.due_for_retention(today, rules));
        due.extend(self.rights.due_for_retention(today, rules));
        due
    }

    /// Runs retention once, on `today`: erases every record whose period has ended (or, on a
    /// dry run, only lists them). What `heard serve`'s daily job and `heard retention` call.
    pub async fn apply_retention(
        &self,
        today: jiff::civil::Date,
        rules: &RetentionRules,
        dry_run: bool,
    ) -> anyhow::Result<heard_privacy::retention::RetentionReport> {
        let due = self.due_for_retention(today, rules);
        heard_privacy::retention::run(self.privacy.store(), today, due, dry_run)
            .await
            .map_err(|error| anyhow::anyhow!(error.message()))
    }

    /// Everything Heard holds about `person`, for the operator at the command line
    /// (`heard subject-access`): each service's part, unfiltered, merged into one object of the
    /// same shape as the GraphQL `SubjectAccess`.
    pub async fn subject_access(&self, person: PersonId) -> anyhow::Result<serde_json::Value> {
        let mut merged = serde_json::Map::new();
        let mut add = |part: serde_json::Value| {
            if let serde_json::Value::Object(fields) = part {
                merged.extend(fields);
            }
        };
        add(serde_json::to_value(self.privacy.held_about(person, None))?);
        add(serde_json::json!({ "feedbackItems": self.feedback.held_about(person, None) }));
        add(serde_json::json!({ "cases": self.advocacy.held_about(person, None) }));
        add(serde_json::json!({ "complaints": self.rights.held_about(person, None) }));
        let access = self.identity.held_about(person, None).await.map_err(|error| anyhow::anyhow!(error.message()))?;
        add(serde_json::json!({ "accessLog": access }));
        Ok(serde_json::Value::Object(merged))
    }
}

/// The event store `settings` names: the segment log in `settings.data_dir`, or PostgreSQL.
pub async fn open_store(settings: &Settings) -> anyhow::Result<EventStore> {
    EventStore::open_configured(
        &settings.data_dir,
        settings.store.backend,
        settings.store.url.as_deref(),
        heard_eventstore::Upcasters::new(),
    )
    .await
    .with_context(|| match settings.store.backend {
        heard_eventstore::BackendKind::Postgres => "cannot open the event store in PostgreSQL (store.url)".to_owned(),
        _ => format!("cannot open the event store in {}", settings.data_dir.display()),
    })
}

/// The saved read models in `settings.data_dir`.
pub fn open_models(settings: &Settings) -> anyhow::Result<ModelStore> {
    ModelStore::open(&settings.data_dir.join("models"))
        .with_context(|| format!("cannot open the saved read models in {}", settings.data_dir.display()))
}

pub async fn open_identity(
    store: &EventStore,
    settings: &Settings,
    models: &ModelStore,
) -> anyhow::Result<IdentityService> {
    let identity_config = settings.auth.identity_config().map_err(anyhow::Error::msg)?;
    IdentityService::open(store.clone(), &settings.data_dir, identity_config, models)
        .await
        .context("cannot start the identity service")
}

pub async fn open_feedback(
    store: &EventStore,
    settings: &Settings,
    models: &ModelStore,
    identity: &IdentityService,
) -> anyhow::Result<FeedbackService> {
    // Over PostgreSQL, spreadsheet drafts are kept in the database sealed under a key that
    // every replica derives from the server key they share, and that is stored nowhere.
    let import_key = heard_feedback::imports::ImportKey::new(identity.secrets().derived_key("import drafts"));
    FeedbackService::open_buffered(
        store.clone(),
        &settings.data_dir,
        models,
        Some(import_key),
        settings.server.subscription_buffer,
    )
    .await
    .context("cannot start the feedback service")
}

pub async fn open_rights(
    store: &EventStore,
    settings: &Settings,
    models: &ModelStore,
) -> anyhow::Result<RightsService> {
    let calendar = settings.calendar.calendar().map_err(anyhow::Error::msg)?;
    RightsService::open(store.clone(), calendar, models).await.context("cannot start the rights service")
}

pub async fn open_advocacy(store: &EventStore, models: &ModelStore) -> anyhow::Result<AdvocacyService> {
    AdvocacyService::open(store.clone(), models).await.context("cannot start the advocacy service")
}

pub async fn open_commissioning(
    store: &EventStore,
    settings: &Settings,
    models: &ModelStore,
) -> anyhow::Result<CommissioningService> {
    let calendar = settings.calendar.calendar().map_err(anyhow::Error::msg)?;
    CommissioningService::open_with(store.clone(), calendar, models, settings.history.config())
        .await
        .context("cannot start the commissioning service")
}

pub async fn open_privacy(store: &EventStore, models: &ModelStore) -> anyhow::Result<PrivacyService> {
    PrivacyService::open(store.clone(), models).await.context("cannot start the privacy service")
}
