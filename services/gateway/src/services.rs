//! Every service of Heard, opened over one event store: what the server, the demo and the
//! tests hold.

use anyhow::Context as _;
use heard_advocacy::service::AdvocacyService;
use heard_commissioning::service::CommissioningService;
use heard_eventstore::{EventStore, ModelStore};
use heard_feedback::FeedbackService;
use heard_identity::IdentityService;
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
}

impl Services {
    /// Opens every service over `store`, each catching up with the log.
    pub async fn open(store: &EventStore, settings: &Settings) -> anyhow::Result<Services> {
        let models = ModelStore::open(&settings.data_dir.join("models"))
            .with_context(|| format!("cannot open the saved read models in {}", settings.data_dir.display()))?;
        let identity_config = settings.auth.identity_config().map_err(anyhow::Error::msg)?;
        let identity = IdentityService::open(store.clone(), &settings.data_dir, identity_config, &models)
            .await
            .context("cannot start the identity service")?;
        let feedback = FeedbackService::open(store.clone(), &settings.data_dir, &models)
            .await
            .context("cannot start the feedback service")?;
        let calendar = settings.calendar.calendar().map_err(anyhow::Error::msg)?;
        let rights = RightsService::open(store.clone(), calendar.clone(), &models)
            .await
            .context("cannot start the rights service")?;
        let advocacy =
            AdvocacyService::open(store.clone(), &models).await.context("cannot start the advocacy service")?;
        let commissioning =
            CommissioningService::open_with(store.clone(), calendar, &models, settings.history.config())
                .await
                .context("cannot start the commissioning service")?;
        Ok(Services { identity, feedback, rights, advocacy, commissioning })
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
    }
}
