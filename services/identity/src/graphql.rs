//! The identity service's part of the GraphQL schema: an Apollo Federation v2 subgraph whose
//! entities (`User`, `Hub`, `Provider`) other services refer to by id.
//!
//! Every resolver asks the policy through `heard_api::authorize`; none decides access itself.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Context, Enum, ID, InputObject, Object, Pos, Result, ServerResult, SimpleObject, Variables};
use heard_access::{Action, Resource, Role};
use heard_api::{ApiError, ClientIp, Viewer, authorize, paginate, timestamp, uuid_arg, viewer};
use uuid::Uuid;

use crate::directory::{AccessEntry, Account, ApiToken, Hub, KeptAccount, Provider, Session};
use crate::domain::{HubKind, SessionEndReason};
use crate::service::{IdentityService, NewAccount};

use crate::cookies::cookie;
pub use crate::cookies::{CSRF_COOKIE, CSRF_HEADER, LOGIN_COOKIE, SESSION_COOKIE};

fn service<'a>(ctx: &'a Context<'_>) -> &'a IdentityService {
    ctx.data_unchecked::<IdentityService>()
}

/// Adds what this service's resolvers need to a schema being built.
pub fn register<Q, M, S>(
    builder: async_graphql::SchemaBuilder<Q, M, S>,
    identity: IdentityService,
) -> async_graphql::SchemaBuilder<Q, M, S> {
    builder
        .data(DataLoader::new(AccountLoader(identity.clone()), tokio::spawn))
        .data(identity)
        .extension(PasswordChangeGate)
}

/// The root fields someone with a one-time password may still ask for: changing it, who they
/// are, logging out, and introspection.
pub const ALLOWED_BEFORE_PASSWORD_CHANGE: &[&str] =
    &["changePassword", "me", "logout", "__schema", "__type", "__typename"];

/// Refuses every operation but [`ALLOWED_BEFORE_PASSWORD_CHANGE`] to a viewer whose account
/// still has its one-time password, with `PASSWORD_CHANGE_REQUIRED`, before anything runs. It
/// sits on the schema, so the API, the websocket and the web UI's own requests all meet it.
#[derive(Clone, Copy, Debug, Default)]
pub struct PasswordChangeGate;

impl ExtensionFactory for PasswordChangeGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Gate::default())
    }
}

/// One request's gate: it remembers which operation the request asked for.
#[derive(Default)]
struct Gate {
    operation: std::sync::Mutex<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Gate {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        *self.operation.lock().unwrap_or_else(|p| p.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if !ctx.data_opt::<Viewer>().is_some_and(|viewer| viewer.must_change_password) {
            return Ok(document);
        }
        let wanted = self.operation.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut refused = None;
        for (name, operation) in document.operations.iter() {
            if wanted.is_some() && name.map(|name| name.as_str()) != wanted.as_deref() {
                continue;
            }
            refused = refused
                .or_else(|| first_refused(&operation.node.selection_set.node, &document, &mut Default::default()));
        }
        match refused {
            None => Ok(document),
            Some(at) => Err(async_graphql::Error::from(ApiError::PasswordChangeRequired(
                "change the one-time password you were given before doing anything else \
                 (changePassword; on the web, Change your password)"
                    .into(),
            ))
            .into_server_error(at)),
        }
    }
}

/// Where the first root field outside [`ALLOWED_BEFORE_PASSWORD_CHANGE`] is, following
/// fragments (each once).
fn first_refused<'a>(
    selections: &'a SelectionSet,
    document: &'a ExecutableDocument,
    seen: &mut std::collections::HashSet<&'a str>,
) -> Option<Pos> {
    selections.items.iter().find_map(|selection| match &selection.node {
        Selection::Field(field) => {
            (!ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&field.node.name.node.as_str())).then_some(field.pos)
        }
        Selection::InlineFragment(fragment) => first_refused(&fragment.node.selection_set.node, document, seen),
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            if !seen.insert(name) {
                return None;
            }
            let fragment = document.fragments.get(name)?;
            first_refused(&fragment.node.selection_set.node, document, seen)
        }
    })
}

heard_api::subgraph_roots!(IdentityQuery, IdentityMutation);

/// Loads accounts by id in one go per request.
pub struct AccountLoader(IdentityService);

impl Loader<Uuid> for AccountLoader {
    type Value = Account;
    type Error = std::sync::Arc<String>;

    async fn load(&self, keys: &[Uuid]) -> std::result::Result<HashMap<Uuid, Account>, Self::Error> {
        let kept: Vec<KeptAccount> =
            self.0.directory().read(|state| keys.iter().filter_map(|key| state.accounts.get(key).cloned()).collect());
        Ok(kept.into_iter().map(|account| (account.id, account.open(self.0.store()))).collect())
    }
}

/// An account, as far as the asker may see it.
async fn visible_account(ctx: &Context<'_>, id: Uuid) -> Result<Option<Account>> {
    let loader = ctx.data_unchecked::<DataLoader<AccountLoader>>();
    let Some(account) = loader.load_one(id).await.map_err(ApiError::internal)? else {
        return Ok(None);
    };
    Ok(heard_api::allowed(ctx, Action::ViewAccount, &account_resource(&account)).then_some(account))
}

fn account_resource(account: &Account) -> Resource {
    Resource::Account { id: account.id, hubs: account.hubs.clone() }
}

/// A role, as GraphQL spells it.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "Role", remote = "heard_access::Role")]
pub enum RoleName {
    HubMember,
    HubCoordinator,
    Advocate,
    ComplaintsHandler,
    Commissioner,
    ProviderResponder,
    Administrator,
}

/// Whether a hub is a local group or a county-wide forum.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "HubKind", remote = "crate::domain::HubKind")]
pub enum HubKindName {
    Hub,
    Forum,
}

/// A person's account.
pub struct User(pub Account);

#[Object(name = "User")]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// `null` if the person has been erased.
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }

    /// The login email; `null` if the person has been erased.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    async fn roles(&self) -> Vec<RoleName> {
        self.0.roles.iter().copied().map(RoleName::from).collect()
    }

    /// The hubs this person belongs to.
    async fn hubs(&self, ctx: &Context<'_>) -> Vec<HubView> {
        service(ctx)
            .directory()
            .read(|state| self.0.hubs.iter().filter_map(|id| state.hubs.get(id).cloned()).map(HubView).collect())
    }

    /// The provider a provider responder answers for.
    async fn provider(&self, ctx: &Context<'_>) -> Option<ProviderView> {
        let id = self.0.provider.as_ref()?;
        service(ctx).directory().read(|state| state.providers.get(id).cloned()).map(ProviderView)
    }

    /// Set while the account is locked after failed logins.
    async fn locked_until(&self, ctx: &Context<'_>) -> Option<String> {
        let now = service(ctx).now_micros();
        self.0.locked_until_micros.filter(|until| *until > now).map(timestamp)
    }

    /// True while the account has the one-time password Heard made for it: until it is
    /// changed with `changePassword`, everything but `me` and `logout` answers
    /// `PASSWORD_CHANGE_REQUIRED`.
    async fn must_change_password(&self) -> bool {
        self.0.must_change_password
    }

    async fn created_at(&self) -> String {
        timestamp(self.0.created_at_micros)
    }

    /// When an administrator deactivated the account; `null` while it is in use. A deactivated
    /// account cannot log in, and nothing it had opened works.
    async fn deactivated_at(&self) -> Option<String> {
        self.0.deactivated_at_micros.map(timestamp)
    }
}

/// A local hub, or a forum that hubs belong to.
pub struct HubView(pub Hub);

#[Object(name = "Hub")]
impl HubView {
    /// A readable id, e.g. `adur-worthing`.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> HubKindName {
        self.0.kind.into()
    }
    async fn area(&self) -> &str {
        &self.0.area
    }
}

/// A service people give feedback or complain about.
pub struct ProviderView(pub Provider);

#[Object(name = "Provider")]
impl ProviderView {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// An API token for an integration. The secret is shown only once, when it is created.
pub struct ApiTokenView(pub ApiToken);

#[Object(name = "ApiToken")]
impl ApiTokenView {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it is for.
    async fn label(&self) -> &str {
        &self.0.label
    }
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(visible_account(ctx, self.0.account).await?.map(User))
    }
    async fn created_at(&self) -> String {
        timestamp(self.0.created_at_micros)
    }
    async fn revoked_at(&self) -> Option<String> {
        self.0.revoked_at_micros.map(timestamp)
    }
}

/// A login session.
pub struct SessionView(pub Session);

#[Object(name = "Session")]
impl SessionView {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(visible_account(ctx, self.0.account).await?.map(User))
    }
    async fn started_at(&self) -> String {
        timestamp(self.0.started_at_micros)
    }
    async fn expires_at(&self) -> String {
        timestamp(self.0.expires_at_micros)
    }
    async fn ended_at(&self) -> Option<String> {
        self.0.ended_at_micros.map(timestamp)
    }
    /// Still usable: not ended and not expired.
    async fn active(&self, ctx: &Context<'_>) -> bool {
        self.0.is_live(service(ctx).now_micros())
    }
    /// The session this request came with.
    async fn current(&self, ctx: &Context<'_>) -> bool {
        viewer(ctx).session == Some(self.0.id)
    }
}

/// One entry of the access log: who was allowed or refused what, and when. Opaque ids only.
pub struct AccessEntryView(pub AccessEntry);

#[Object(name = "AccessLogEntry")]
impl AccessEntryView {
    /// Position of the access event in the log.
    async fn position(&self) -> u64 {
        self.0.position
    }
    async fn at(&self) -> String {
        timestamp(self.0.at_micros)
    }
    /// `null` when nobody was logged in.
    async fn actor_id(&self) -> Option<ID> {
        self.0.record.actor.map(|id| ID(id.to_string()))
    }
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match self.0.record.actor {
            Some(id) => Ok(visible_account(ctx, id).await?.map(User)),
            None => Ok(None),
        }
    }
    /// e.g. `view_account`, `view_case`.
    async fn action(&self) -> &str {
        &self.0.record.action
    }
    async fn resource_kind(&self) -> &str {
        &self.0.record.resource_kind
    }
    /// The id asked for (a made-up id longer than 64 characters shows only as `sha256:…`).
    async fn resource_id(&self) -> Option<&str> {
        self.0.record.resource_id.as_deref()
    }
    /// Every record of one page of a list read (empty for a single read or a refusal).
    async fn resource_ids(&self) -> &[String] {
        &self.0.record.resource_ids
    }
    async fn allowed(&self) -> bool {
        self.0.record.allowed
    }
    /// Why it was refused.
    async fn reason(&self) -> Option<&str> {
        self.0.record.reason.as_deref()
    }
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The logged-in account.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let id = heard_api::account(ctx)?;
        Ok(User(service(ctx).account(id).ok_or_else(|| ApiError::Unauthenticated("you need to log in first".into()))?))
    }

    /// One account. Accounts outside your hubs are not found.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = uuid_arg("id", &id)?;
        find_user(ctx, id).await
    }

    /// Accounts you may see, oldest first: administrators see all, hub coordinators their
    /// hubs' members.
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only members of this hub")] hub: Option<ID>,
        #[graphql(desc = "Only accounts with this role")] role: Option<RoleName>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, User>> {
        authorize(ctx, Action::ListAccounts, &Resource::System).await?;
        let identity = service(ctx);
        let accounts = identity.directory().read(|state| state.accounts_in_order(identity.store()));
        let visible = accounts
            .into_iter()
            .filter(|account| heard_api::allowed(ctx, Action::ViewAccount, &account_resource(account)))
            .filter(|account| hub.as_ref().is_none_or(|hub| account.hubs.contains(hub.as_str())))
            .filter(|account| role.is_none_or(|role| account.roles.contains(&role.into())))
            .map(User)
            .collect();
        Ok(paginate(visible, after, before, first, last)?)
    }

    /// The directory of advocates, by name, to hand a case to one of them: advocates and
    /// administrators only. Each advocate's account id and display name, and nothing more.
    async fn advocates(&self, ctx: &Context<'_>) -> Result<Vec<AdvocateListing>> {
        authorize(ctx, Action::ListAdvocates, &Resource::System).await?;
        let identity = service(ctx);
        let advocates = identity.directory().read(|state| state.advocates_by_name(identity.store()));
        Ok(listings(advocates, |id, display_name| AdvocateListing { id, display_name }))
    }

    /// The coordinators of one hub, by name, to send a disclosure of risk to one of them or hand
    /// it to another: the hub's members and coordinators, and administrators. Each
    /// coordinator's account id and display name, and nothing more.
    async fn coordinators(&self, ctx: &Context<'_>, hub: ID) -> Result<Vec<CoordinatorListing>> {
        authorize(ctx, Action::ListCoordinators, &Resource::Hub { hub: hub.0.clone() }).await?;
        let identity = service(ctx);
        let coordinators = identity.directory().read(|state| state.coordinators_by_name(&hub, identity.store()));
        Ok(listings(coordinators, |id, display_name| CoordinatorListing { id, display_name }))
    }

    /// The directory of complaints handlers, by name, to assign a complaint to one of them:
    /// complaints handlers only (the people who may assign). Each handler's account id and
    /// display name, and nothing more.
    async fn complaint_handlers(&self, ctx: &Context<'_>) -> Result<Vec<ComplaintHandlerListing>> {
        authorize(ctx, Action::ListComplaintHandlers, &Resource::System).await?;
        let identity = service(ctx);
        let handlers = identity.directory().read(|state| state.complaint_handlers_by_name(identity.store()));
        Ok(listings(handlers, |id, display_name| ComplaintHandlerListing { id, display_name }))
    }

    /// Hubs and forums, by id.
    async fn hubs(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, HubView>> {
        let hubs = service(ctx).hubs().into_iter().map(HubView).collect();
        reference_data_page(ctx, hubs, after, before, first, last).await
    }

    /// Providers, by id.
    async fn providers(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, ProviderView>> {
        let providers = service(ctx).providers().into_iter().map(ProviderView).collect();
        reference_data_page(ctx, providers, after, before, first, last).await
    }

    /// API tokens of an account (yours if `userId` is left out), newest first.
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, ApiTokenView>> {
        let owner = owner_to_manage(ctx, user_id.as_ref(), Action::ManageApiTokens).await?;
        let mut tokens: Vec<ApiToken> = service(ctx)
            .directory()
            .read(|state| state.tokens.values().filter(|t| t.account == owner).cloned().collect());
        tokens.sort_by_key(|token| std::cmp::Reverse(token.created_at_micros));
        Ok(paginate(tokens.into_iter().map(ApiTokenView).collect(), after, before, first, last)?)
    }

    /// Login sessions of an account (yours if `userId` is left out), newest first.
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, SessionView>> {
        let owner = owner_to_manage(ctx, user_id.as_ref(), Action::ManageSessions).await?;
        let mut sessions: Vec<Session> = service(ctx)
            .directory()
            .read(|state| state.sessions.values().filter(|s| s.account == owner).cloned().collect());
        sessions.sort_by_key(|session| std::cmp::Reverse(session.started_at_micros));
        Ok(paginate(sessions.into_iter().map(SessionView).collect(), after, before, first, last)?)
    }

    /// Who read case files and complaints, and every refused attempt, newest first.
    /// Administrators only.
    #[allow(clippy::too_many_arguments)]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries by this account")] actor_id: Option<ID>,
        #[graphql(desc = "Only allowed (true) or refused (false) entries")] allowed: Option<bool>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<String, AccessEntryView>> {
        authorize(ctx, Action::ViewAccessLog, &Resource::System).await?;
        let actor = actor_id.as_ref().map(|id| uuid_arg("actorId", id)).transpose()?;
        // The page is cut from the model's marks; only its entries are read from the log.
        let positions: Vec<u64> = service(ctx).directory().read(|state| {
            state
                .access
                .iter()
                .rev()
                .filter(|mark| actor.is_none_or(|actor| mark.actor == Some(actor)))
                .filter(|mark| allowed.is_none_or(|allowed| mark.allowed == allowed))
                .map(|mark| mark.position)
                .collect()
        });
        let page = paginate(positions, after, before, first, last)?;
        let wanted: Vec<u64> = page.edges.iter().map(|edge| edge.node).collect();
        let entries = service(ctx).access_entries(&wanted).await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.edges.into_iter().zip(entries).map(|(edge, entry)| Edge::new(edge.cursor, AccessEntryView(entry))),
        );
        Ok(connection)
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        find_user(ctx, uuid_arg("id", &id)?).await
    }

    #[graphql(entity)]
    async fn find_hub_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<HubView> {
        service(ctx)
            .directory()
            .read(|state| state.hubs.get(id.as_str()).cloned())
            .map(HubView)
            .ok_or_else(|| ApiError::NotFound.into())
    }

    #[graphql(entity)]
    async fn find_provider_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<ProviderView> {
        service(ctx)
            .directory()
            .read(|state| state.providers.get(id.as_str()).cloned())
            .map(ProviderView)
            .ok_or_else(|| ApiError::NotFound.into())
    }
}

/// The single process's answers for the hubs and providers other services reference: what
/// the federation gateway gets from `find_hub_by_id` and `find_provider_by_id` (`null` for a
/// key Heard does not know).
pub fn owners(owners: heard_api::entity::Owners) -> heard_api::entity::Owners {
    use async_graphql::parser::types::Field;
    use async_graphql::{ContextSelectionSet, OutputType, Positioned};
    use heard_api::entity::Resolved;
    fn hub<'a>(ctx: &'a ContextSelectionSet<'a>, field: &'a Positioned<Field>, id: &'a str) -> Resolved<'a> {
        Box::pin(async move {
            let hub = ctx.data_unchecked::<IdentityService>().directory().read(|state| state.hubs.get(id).cloned());
            OutputType::resolve(&hub.map(HubView), ctx, field).await
        })
    }
    fn provider<'a>(ctx: &'a ContextSelectionSet<'a>, field: &'a Positioned<Field>, id: &'a str) -> Resolved<'a> {
        Box::pin(async move {
            let provider =
                ctx.data_unchecked::<IdentityService>().directory().read(|state| state.providers.get(id).cloned());
            OutputType::resolve(&provider.map(ProviderView), ctx, field).await
        })
    }
    owners.with("Hub", Arc::new(hub)).with("Provider", Arc::new(provider))
}

async fn find_user(ctx: &Context<'_>, id: Uuid) -> Result<User> {
    Ok(User(account_for(ctx, id, Action::ViewAccount).await?))
}

/// The account `id` names, once the policy lets the asker take `action` on it. A missing
/// account is judged as one in no hub first, so that a refusal looks the same whether it
/// exists or not.
async fn account_for(ctx: &Context<'_>, id: Uuid, action: Action) -> Result<Account> {
    match service(ctx).account(id) {
        Some(account) => {
            authorize(ctx, action, &account_resource(&account)).await?;
            Ok(account)
        }
        None => {
            authorize(ctx, action, &Resource::Account { id, hubs: Default::default() }).await?;
            Err(ApiError::NotFound.into())
        }
    }
}

/// The id of the account the `id` argument names, once the asker may take `action` on it (see
/// [`account_for`]).
async fn account_to_manage(ctx: &Context<'_>, id: &ID, action: Action) -> Result<Uuid> {
    let id = uuid_arg("id", id)?;
    account_for(ctx, id, action).await?;
    Ok(id)
}

/// One page of a list of reference data (hubs, providers), which anyone allowed to see
/// reference data may list.
async fn reference_data_page<T: async_graphql::OutputType>(
    ctx: &Context<'_>,
    items: Vec<T>,
    after: Option<String>,
    before: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> Result<Connection<String, T>> {
    authorize(ctx, Action::ViewReferenceData, &Resource::ReferenceData).await?;
    Ok(paginate(items, after, before, first, last)?)
}

fn owner_arg(ctx: &Context<'_>, user_id: Option<&ID>) -> Result<Uuid> {
    Ok(match user_id {
        Some(id) => uuid_arg("userId", id)?,
        None => heard_api::account(ctx)?,
    })
}

/// The account whose tokens or sessions are asked about (`userId`, or the asker's own when it
/// is left out), once the policy lets the asker take `action` on what it owns.
async fn owner_to_manage(ctx: &Context<'_>, user_id: Option<&ID>, action: Action) -> Result<Uuid> {
    let owner = owner_arg(ctx, user_id)?;
    authorize(ctx, action, &Resource::OwnedBy { account: owner }).await?;
    Ok(owner)
}

/// People to choose by name, each as `listing` makes it of their account id and display name.
fn listings<T>(people: Vec<(Uuid, String)>, listing: impl Fn(ID, String) -> T) -> Vec<T> {
    people.into_iter().map(|(id, display_name)| listing(ID(id.to_string()), display_name)).collect()
}

/// One advocate in the directory of advocates: who they are to choose by, and nothing more.
#[derive(SimpleObject, Clone, Debug)]
pub struct AdvocateListing {
    /// The advocate's account id.
    pub id: ID,
    pub display_name: String,
}

/// One coordinator of a hub: who they are to choose by, and nothing more.
#[derive(SimpleObject, Clone, Debug)]
pub struct CoordinatorListing {
    /// The coordinator's account id.
    pub id: ID,
    pub display_name: String,
}

/// One complaints handler in the directory of complaints handlers: who they are to choose by,
/// and nothing more.
#[derive(SimpleObject, Clone, Debug)]
pub struct ComplaintHandlerListing {
    /// The handler's account id.
    pub id: ID,
    pub display_name: String,
}

/// What `login` returns.
#[derive(SimpleObject)]
pub struct LoginPayload {
    pub user: User,
    /// Send this in the `X-CSRF-Token` header (or a form's `csrf_token` field) with every
    /// request that uses the session cookie. GraphiQL does it for you.
    pub csrf_token: String,
    pub expires_at: String,
}

/// What `createUser` returns.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    pub user: User,
    /// Set when no password was given: pass it to the person privately. It is shown only once.
    pub one_time_password: Option<String>,
}

/// What `resetUserPassword` returns.
#[derive(SimpleObject)]
pub struct ResetUserPasswordPayload {
    pub user: User,
    /// The new one-time password: pass it to the person privately. It is shown only once, and
    /// works only until they choose their own at their next login.
    pub one_time_password: String,
}

/// What `createApiToken` returns.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    pub token: ApiTokenView,
    /// The bearer token. Heard keeps only its hash: copy it now.
    pub secret: String,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<RoleName>,
    /// Hub ids, e.g. `arun`. Required for hub members and coordinators.
    #[graphql(default)]
    pub hubs: Vec<ID>,
    /// Provider id. Required for provider responders.
    pub provider: Option<ID>,
    /// Leave out to have Heard generate a one-time password.
    pub password: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateUserRolesInput {
    pub user_id: ID,
    pub roles: Vec<RoleName>,
    #[graphql(default)]
    pub hubs: Vec<ID>,
    pub provider: Option<ID>,
}

#[derive(InputObject)]
pub struct AddHubInput {
    pub name: String,
    pub kind: HubKindName,
    pub area: String,
}

#[derive(InputObject)]
pub struct AddProviderInput {
    pub name: String,
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Logs in with email and password. Sets the session cookie (HttpOnly, SameSite=Lax) and
    /// returns the CSRF token that must accompany requests made with it.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<LoginPayload> {
        let identity = service(ctx);
        let ip = ctx.data_opt::<ClientIp>().map(|ip| ip.0);
        let logged_in = identity.login(&email, &password, ip).await?;
        let secure = identity.config().secure_cookies;
        let max_age = identity.config().session_lifetime.as_secs() as i64;
        ctx.append_http_header("set-cookie", cookie(SESSION_COOKIE, &logged_in.cookie, max_age, true, "Lax", secure));
        ctx.append_http_header(
            "set-cookie",
            cookie(CSRF_COOKIE, &logged_in.csrf_token, max_age, false, "Strict", secure),
        );
        Ok(LoginPayload {
            user: User(logged_in.account),
            csrf_token: logged_in.csrf_token,
            expires_at: timestamp(logged_in.expires_at_micros),
        })
    }

    /// Ends this session and clears its cookies.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = heard_api::account(ctx)?;
        let Some(session) = viewer(ctx).session else {
            return Err(ApiError::bad_input("session", "this request did not come with a session cookie").into());
        };
        service(ctx).end_session(session, SessionEndReason::LoggedOut, me).await?;
        let secure = service(ctx).config().secure_cookies;
        ctx.append_http_header("set-cookie", cookie(SESSION_COOKIE, "", 0, true, "Lax", secure));
        ctx.append_http_header("set-cookie", cookie(CSRF_COOKIE, "", 0, false, "Strict", secure));
        Ok(true)
    }

    /// Replaces your password. Every other session of your account is logged out (this one
    /// stays); with `revokeApiTokens: true` every API token of yours is revoked too.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
        #[graphql(default = false, desc = "Also revoke every API token of your account")] revoke_api_tokens: bool,
    ) -> Result<bool> {
        let me = heard_api::account(ctx)?;
        let keep = viewer(ctx).session;
        service(ctx).change_password(me, &current_password, &new_password, keep, revoke_api_tokens).await?;
        Ok(true)
    }

    /// Creates an account. Administrators only.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<CreateUserPayload> {
        authorize(ctx, Action::CreateAccount, &Resource::System).await?;
        let by = heard_api::account(ctx)?;
        let new = NewAccount {
            email: input.email,
            display_name: input.display_name,
            roles: input.roles.into_iter().map(Role::from).collect(),
            hubs: input.hubs.into_iter().map(|hub| hub.0).collect(),
            provider: input.provider.map(|provider| provider.0),
            password: input.password,
        };
        let (account, one_time_password) = service(ctx).create_account(Some(by), new).await?;
        Ok(CreateUserPayload { user: User(account), one_time_password })
    }

    /// Replaces an account's roles and scopes. Administrators only.
    async fn update_user_roles(&self, ctx: &Context<'_>, input: UpdateUserRolesInput) -> Result<User> {
        let id = uuid_arg("input.userId", &input.user_id)?;
        let target = service(ctx).account(id).ok_or(ApiError::NotFound)?;
        authorize(ctx, Action::ChangeRoles, &account_resource(&target)).await?;
        let by = heard_api::account(ctx)?;
        let roles: Vec<Role> = input.roles.into_iter().map(Role::from).collect();
        let hubs: Vec<String> = input.hubs.into_iter().map(|hub| hub.0).collect();
        let provider = input.provider.map(|provider| provider.0);
        Ok(User(service(ctx).change_roles(by, id, &roles, &hubs, &provider).await?))
    }

    /// Lifts a lockout after failed logins. Administrators only.
    async fn unlock_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = uuid_arg("id", &id)?;
        let target = service(ctx).account(id).ok_or(ApiError::NotFound)?;
        authorize(ctx, Action::UnlockAccount, &account_resource(&target)).await?;
        Ok(User(service(ctx).unlock(heard_api::account(ctx)?, id).await?))
    }

    /// Deactivates an account: every session of it ends and every API token of it is revoked
    /// at once, and it cannot log in until it is reactivated. It leaves the directory of
    /// advocates and every list of people to hand work to. You cannot deactivate your own.
    /// Administrators only.
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = account_to_manage(ctx, &id, Action::DeactivateAccount).await?;
        Ok(User(service(ctx).deactivate(heard_api::account(ctx)?, id).await?))
    }

    /// Reactivates a deactivated account: it logs in again with the password it had (its old
    /// sessions and tokens stay ended). Administrators only.
    async fn reactivate_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = account_to_manage(ctx, &id, Action::DeactivateAccount).await?;
        Ok(User(service(ctx).reactivate(heard_api::account(ctx)?, id).await?))
    }

    /// Gives an account a new one-time password, returned once, which the person must change
    /// at their next login; every session of the account ends. Not for your own account (use
    /// `changePassword`). Administrators only.
    async fn reset_user_password(&self, ctx: &Context<'_>, id: ID) -> Result<ResetUserPasswordPayload> {
        let id = account_to_manage(ctx, &id, Action::ResetPassword).await?;
        let (account, one_time_password) = service(ctx).reset_password(heard_api::account(ctx)?, id).await?;
        Ok(ResetUserPasswordPayload { user: User(account), one_time_password })
    }

    /// Creates an API token for yours (or, for administrators, another) account.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        label: String,
        user_id: Option<ID>,
    ) -> Result<CreateApiTokenPayload> {
        let owner = owner_to_manage(ctx, user_id.as_ref(), Action::ManageApiTokens).await?;
        let (token, secret) = service(ctx).create_token(heard_api::account(ctx)?, owner, &label).await?;
        Ok(CreateApiTokenPayload { token: ApiTokenView(token), secret })
    }

    /// Revokes an API token: it stops working at once.
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> Result<ApiTokenView> {
        let id = uuid_arg("id", &id)?;
        let owner = service(ctx).token(id).map(|token| token.account);
        // An unknown token is judged as someone else's, so its existence is not revealed.
        let owner = owner.unwrap_or_else(Uuid::nil);
        authorize(ctx, Action::ManageApiTokens, &Resource::OwnedBy { account: owner }).await?;
        Ok(ApiTokenView(service(ctx).revoke_token(heard_api::account(ctx)?, id).await?))
    }

    /// Ends a login session (yours, or anyone's for administrators).
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<SessionView> {
        let id = uuid_arg("id", &id)?;
        let owner = service(ctx).session(id).map(|session| session.account).unwrap_or_else(Uuid::nil);
        authorize(ctx, Action::ManageSessions, &Resource::OwnedBy { account: owner }).await?;
        service(ctx).end_session(id, SessionEndReason::Revoked, heard_api::account(ctx)?).await?;
        Ok(SessionView(service(ctx).session(id).ok_or(ApiError::NotFound)?))
    }

    /// Adds a hub or forum. Administrators only.
    async fn add_hub(&self, ctx: &Context<'_>, input: AddHubInput) -> Result<HubView> {
        authorize(ctx, Action::EditReferenceData, &Resource::ReferenceData).await?;
        let kind: HubKind = input.kind.into();
        Ok(HubView(service(ctx).add_hub(heard_api::account(ctx)?, &input.name, kind, &input.area).await?))
    }

    /// Adds a provider. Administrators only.
    async fn add_provider(&self, ctx: &Context<'_>, input: AddProviderInput) -> Result<ProviderView> {
        authorize(ctx, Action::EditReferenceData, &Resource::ReferenceData).await?;
        Ok(ProviderView(service(ctx).add_provider(heard_api::account(ctx)?, &input.name).await?))
    }
}
