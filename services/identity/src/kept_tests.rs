//! The directory kept on disk: it answers as the one rebuilt from the log, holds no name, email
//! or password hash in the clear, and an erased person's fields are gone at once, running and
//! after a restart, and they cannot log in.

use std::path::{Path, PathBuf};

use heard_access::Role;
use heard_api::ApiError;
use heard_contracts::Event as _;
use heard_contracts::access::AccessRecorded;
use heard_eventstore::{EventStore, ExpectedRevision, ModelStore, NewEvent, StreamName, SubjectId, Upcasters};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::directory::State;
use crate::domain::SessionEndReason;
use crate::service::{IdentityConfig, IdentityService, NewAccount};

const PASSWORD: &str = "a long enough password";
const NEW_PASSWORD: &str = "another long enough password";

struct World {
    store: EventStore,
    service: IdentityService,
}

async fn open(dir: &Path, models: &ModelStore) -> World {
    let store = EventStore::open(dir, Upcasters::new()).unwrap();
    let service = IdentityService::open(store.clone(), dir, IdentityConfig::default(), models).await.unwrap();
    World { store, service }
}

async fn close(world: World) {
    world.store.close().await.unwrap();
    world.service.stopped().await;
}

/// The people of the seeded directory, by what happened to them.
struct Seeded {
    admin: Uuid,
    /// An advocate who changed their password; the one logged in with the seeded session.
    advocate: Uuid,
    /// A hub coordinator whose password an administrator reset.
    coordinator: Uuid,
    /// A complaints handler, deactivated.
    handler: Uuid,
    /// An advocate the tests erase.
    erased: Uuid,
    /// The advocate's session cookie and API token, made while seeding.
    cookie: String,
    token: String,
    /// The coordinator's one-time password.
    one_time: String,
}

const PEOPLE: [(&str, &str); 5] = [
    ("Ada Quillfeather", "ada.quillfeather@example.org"),
    ("Bram Osterlind", "bram.osterlind@example.org"),
    ("Cleo Marchetti", "cleo.marchetti@example.org"),
    ("Dov Haverkamp", "dov.haverkamp@example.org"),
    ("Esme Tallowby", "esme.tallowby@example.org"),
];

async fn create(world: &World, by: Option<Uuid>, (name, email): (&str, &str), role: Role, hubs: &[&str]) -> Uuid {
    let new = NewAccount {
        email: email.to_uppercase(),
        display_name: name.into(),
        roles: vec![role],
        hubs: hubs.iter().map(|hub| hub.to_string()).collect(),
        provider: None,
        password: Some(PASSWORD.into()),
    };
    world.service.create_account(by, new).await.unwrap().0.id
}

/// Five accounts, a changed and a reset password, a deactivation, a session, an API token, a
/// changed role, a recorded access and a lock-out.
async fn seed(world: &World) -> Seeded {
    let service = &world.service;
    let admin = create(world, None, PEOPLE[0], Role::Administrator, &[]).await;
    let advocate = create(world, Some(admin), PEOPLE[1], Role::Advocate, &[]).await;
    let hub = service.hubs()[0].id.clone();
    let coordinator = create(world, Some(admin), PEOPLE[2], Role::HubCoordinator, &[&hub]).await;
    let handler = create(world, Some(admin), PEOPLE[3], Role::ComplaintsHandler, &[]).await;
    let erased = create(world, Some(admin), PEOPLE[4], Role::Advocate, &[]).await;
    service.change_password(advocate, PASSWORD, NEW_PASSWORD, None, false).await.unwrap();
    let (_, one_time) = service.reset_password(admin, coordinator).await.unwrap();
    service.deactivate(admin, handler).await.unwrap();
    service
        .change_roles(admin, erased, &[Role::Advocate, Role::HubMember], std::slice::from_ref(&hub), &None)
        .await
        .unwrap();
    let logged_in = service.login(PEOPLE[1].1, NEW_PASSWORD, None).await.unwrap();
    let (_, token) = service.create_token(advocate, advocate, "reports").await.unwrap();
    // The admin's wrong guesses, up to the lock-out (recorded in the log).
    for _ in 0..IdentityConfig::default().max_failed_logins {
        assert!(service.login(PEOPLE[0].1, "not the password at all", None).await.is_err());
    }
    let access = AccessRecorded {
        actor: Some(admin),
        action: "view_case".into(),
        resource_kind: "case".into(),
        resource_id: Some(Uuid::from_u128(7).to_string()),
        resource_ids: Vec::new(),
        allowed: false,
        reason: Some("not their case".into()),
    };
    let stream = StreamName::of(AccessRecorded::CATEGORY, Uuid::new_v4()).unwrap();
    let event = NewEvent::new(AccessRecorded::TYPE, 1, &access).unwrap();
    world.store.append(&stream, ExpectedRevision::NoStream, vec![event]).await.unwrap();
    assert!(service.directory().caught_up(std::time::Duration::from_secs(10)).await);
    Seeded { admin, advocate, coordinator, handler, erased, cookie: logged_in.cookie, token, one_time }
}

/// A new data directory with its model store, and the service over them with the directory
/// seeded.
async fn seeded_directory() -> (tempfile::TempDir, ModelStore, World, Seeded) {
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let world = open(dir.path(), &models).await;
    let seeded = seed(&world).await;
    (dir, models, world, seeded)
}

/// What the directory answers, as JSON, without changing it: every account opened, the lists
/// by name, the advocate's tokens and sessions, who the seeded cookie and token are, the
/// reference data and the access log.
fn answers(world: &World, seeded: &Seeded) -> Value {
    let service = &world.service;
    let ids = [seeded.admin, seeded.advocate, seeded.coordinator, seeded.handler, seeded.erased];
    let accounts: Vec<Value> = ids
        .iter()
        .map(|id| {
            let account = service.account(*id).unwrap();
            json!({
                "id": account.id, "name": account.display_name, "email": account.email,
                "password_hash": account.password_hash, "roles": account.roles, "hubs": account.hubs,
                "provider": account.provider, "must_change_password": account.must_change_password,
                "locked_until": account.locked_until_micros, "created_at": account.created_at_micros,
                "deactivated_at": account.deactivated_at_micros,
            })
        })
        .collect();
    let store = service.store();
    let hub = service.hubs()[0].id.clone();
    let (in_order, advocates, coordinators, handlers, tokens, sessions, access) = service.directory().read(|state| {
        let in_order: Vec<Value> =
            state.accounts_in_order(store).iter().map(|account| json!([account.id, account.email])).collect();
        let mut tokens: Vec<Value> = state
            .tokens
            .values()
            .map(|token| json!([token.id, token.account, token.label, token.revoked_at_micros]))
            .collect();
        tokens.sort_by_key(Value::to_string);
        let mut sessions: Vec<Value> = state
            .sessions
            .values()
            .filter(|session| session.account == seeded.advocate)
            .map(|session| json!([session.id, session.expires_at_micros, session.ended_at_micros]))
            .collect();
        sessions.sort_by_key(Value::to_string);
        let access: Vec<Value> =
            state.access.iter().map(|mark| json!([mark.position, mark.actor, mark.allowed])).collect();
        (
            in_order,
            state.advocates_by_name(store),
            state.coordinators_by_name(&hub, store),
            state.complaint_handlers_by_name(store),
            tokens,
            sessions,
            access,
        )
    });
    let viewer = |viewer: Option<heard_api::Viewer>| {
        viewer.map(|viewer| json!([viewer.actor.account, viewer.actor.roles, viewer.must_change_password]))
    };
    let hubs: Vec<Value> = service.hubs().iter().map(|hub| json!([hub.id, hub.name, hub.area])).collect();
    let providers: Vec<Value> = service.providers().iter().map(|p| json!([p.id, p.name])).collect();
    json!({
        "accounts": accounts,
        "in_order": in_order,
        "advocates": advocates,
        "coordinators": coordinators,
        "handlers": handlers,
        "tokens": tokens,
        "sessions": sessions,
        "cookie": viewer(service.authenticate_cookie(&seeded.cookie)),
        "token": viewer(service.authenticate_token(&seeded.token)),
        "hubs": hubs,
        "providers": providers,
        "access": access,
    })
}

fn refused(result: Result<impl std::fmt::Debug, ApiError>) -> String {
    match result {
        Ok(found) => panic!("expected a refusal, got {found:?}"),
        Err(error) => error.message(),
    }
}

/// Logins and creations behave as they always did: the email in any case, with spaces; the
/// changed and reset passwords; a deactivated account; a duplicate email refused. Only the
/// coordinator logs in (their sessions are not among the answers), and is logged out again.
async fn logins_behave(world: &World, seeded: &Seeded) {
    let service = &world.service;
    let wrong = "the email or password is not right";
    let email = |n: usize| PEOPLE[n].1;
    assert_eq!(refused(service.login(email(1), PASSWORD, None).await), wrong, "the old password is gone");
    let spaced = format!("  {}  ", email(2).to_uppercase());
    let coordinator = service.login(&spaced, &seeded.one_time, None).await.unwrap();
    assert_eq!(coordinator.account.id, seeded.coordinator);
    assert_eq!(coordinator.account.email.as_deref(), Some(email(2)));
    assert!(coordinator.account.must_change_password, "the reset password must be changed");
    service.end_session(coordinator.session, SessionEndReason::LoggedOut, seeded.coordinator).await.unwrap();
    assert!(refused(service.login(email(3), PASSWORD, None).await).contains("deactivated"));
    assert_eq!(refused(service.login("nobody@example.org", PASSWORD, None).await), wrong);
    let again = NewAccount {
        email: format!(" {} ", email(1).to_uppercase()),
        display_name: "Someone Else".into(),
        roles: vec![Role::Advocate],
        password: Some(PASSWORD.into()),
        ..NewAccount::default()
    };
    assert!(matches!(service.create_account(None, again).await, Err(ApiError::Conflict(_))));
}

#[tokio::test]
async fn a_directory_loaded_from_what_it_saved_answers_exactly_as_one_rebuilt_from_the_log() {
    let (dir, models, world, seeded) = seeded_directory().await;
    let first = answers(&world, &seeded);
    for (name, email) in PEOPLE {
        assert!(first.to_string().contains(name) && first.to_string().contains(email), "{name} is in {first}");
    }
    assert!(first["accounts"][0]["locked_until"].is_i64(), "the lock-out is recorded: {first}");
    assert!(first["cookie"].is_array() && first["token"].is_array(), "the session and token open: {first}");
    logins_behave(&world, &seeded).await;
    close(world).await;

    // After a restart: loaded from what was saved, not rebuilt.
    let saved = models.saved().unwrap();
    let at = saved.iter().find(|(name, _)| name == "identity").map(|(_, at)| *at);
    let world = open(dir.path(), &models).await;
    assert_eq!(at, Some(world.store.head().position), "saved as at the head of the log");
    let loaded = models.load::<State>("identity", &world.store).await.unwrap();
    assert!(loaded.is_ok(), "the saved directory can be loaded: {:?}", loaded.err());
    assert_eq!(answers(&world, &seeded).to_string(), first.to_string());
    logins_behave(&world, &seeded).await;
    close(world).await;

    // After the saved directory is forgotten: rebuilt from the log.
    models.forget("identity").unwrap();
    let world = open(dir.path(), &models).await;
    assert_eq!(answers(&world, &seeded).to_string(), first.to_string());
    logins_behave(&world, &seeded).await;
    close(world).await;
}

#[tokio::test]
async fn a_directory_saved_under_another_server_key_still_finds_accounts_by_email_and_is_indexed_again() {
    let (dir, models, world, seeded) = seeded_directory().await;
    close(world).await;

    std::fs::write(dir.path().join("secret.key"), [9u8; 32]).unwrap();
    let world = open(dir.path(), &models).await;
    let made_under =
        |world: &World| world.service.directory().read(|state| state.by_email.made_under(world.service.secrets()));
    assert!(!made_under(&world), "loaded as it was saved");
    // Found by opening each account's email in turn, then indexed again with the next batch
    // (this login's own session).
    let advocate = world.service.login(PEOPLE[1].1, NEW_PASSWORD, None).await.unwrap();
    assert_eq!(advocate.account.id, seeded.advocate);
    assert!(made_under(&world), "made again under the new key");
    world.service.end_session(advocate.session, SessionEndReason::LoggedOut, seeded.advocate).await.unwrap();
    logins_behave(&world, &seeded).await;
    close(world).await;
}

#[tokio::test]
async fn destroying_a_persons_key_makes_their_name_and_email_unreadable_at_once_and_after_a_restart() {
    let (dir, models, world, seeded) = seeded_directory().await;
    let (name, email) = PEOPLE[4];
    let before = answers(&world, &seeded);
    assert!(before["advocates"].to_string().contains(name));
    let found = world.service.login(email, PASSWORD, None).await.unwrap();
    assert_eq!(found.account.id, seeded.erased, "they can log in before");

    // Erased in the running service.
    assert!(world.store.forget_subject(SubjectId(seeded.erased)).unwrap());
    let erased = answers(&world, &seeded);
    let account = world.service.account(seeded.erased).unwrap();
    assert_eq!((account.display_name, account.email, account.password_hash), (None, None, None));
    assert!(!erased.to_string().contains(name) && !erased.to_string().contains(email), "still shown: {erased}");
    assert!(erased.to_string().contains(PEOPLE[1].0), "nobody else is erased");
    assert_eq!(erased["advocates"].as_array().unwrap().len(), 1, "only the other advocate is listed");
    let wrong = "the email or password is not right";
    assert_eq!(refused(world.service.login(email, PASSWORD, None).await), wrong, "they cannot log in");
    logins_behave(&world, &seeded).await;
    close(world).await;

    // After a restart, from what was saved, and rebuilt from the log: the same answers, and
    // still no login.
    let world = open(dir.path(), &models).await;
    assert_eq!(answers(&world, &seeded).to_string(), erased.to_string());
    assert_eq!(refused(world.service.login(email, PASSWORD, None).await), wrong);
    close(world).await;
    models.forget("identity").unwrap();
    let world = open(dir.path(), &models).await;
    assert_eq!(answers(&world, &seeded).to_string(), erased.to_string());
    assert_eq!(refused(world.service.login(email, PASSWORD, None).await), wrong);
    close(world).await;
}

#[tokio::test]
async fn after_close_no_file_of_the_model_store_holds_a_name_an_email_or_a_password_hash() {
    let dir = tempfile::tempdir().unwrap();
    let models_dir = dir.path().join("models");
    let mut secrets: Vec<Vec<u8>> =
        PEOPLE.iter().flat_map(|(name, email)| [name.as_bytes(), email.as_bytes()]).map(<[u8]>::to_vec).collect();
    {
        let models = ModelStore::open(&models_dir).unwrap();
        let world = open(dir.path(), &models).await;
        let seeded = seed(&world).await;
        for id in [seeded.admin, seeded.advocate, seeded.coordinator, seeded.handler, seeded.erased] {
            let hash = world.service.account(id).unwrap().password_hash.unwrap();
            assert!(hash.starts_with("$argon2id$"));
            // The whole hash, and its salt and digest on their own.
            secrets.extend(hash.rsplit('$').take(2).map(|part| part.as_bytes().to_vec()));
            secrets.push(hash.into_bytes());
        }
        let local_part = PEOPLE[0].1.split('@').next().unwrap();
        secrets.push(local_part.as_bytes().to_vec());
        close(world).await;
        assert!(models.saved().unwrap().iter().any(|(name, at)| name == "identity" && *at > 0));
    }
    let files = heard_contracts::testing::files_under(&models_dir);
    let holds = |file: &PathBuf, words: &[u8]| std::fs::read(file).unwrap().windows(words.len()).any(|w| w == words);
    assert!(
        files.iter().any(|file| holds(file, b"reports")),
        "the saved directory is readable as it is: what is not personal (a token's label) is found"
    );
    assert!(
        !files.iter().any(|file| holds(file, b"not their case")),
        "an access log entry's details stay in the log: the model keeps where it is, who, and whether allowed"
    );
    let mut found = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for words in &secrets {
            if bytes.windows(words.len()).any(|window| window == words.as_slice()) {
                found.push((file.clone(), String::from_utf8_lossy(words).into_owned()));
            }
        }
    }
    assert!(found.is_empty(), "personal data in the clear in {found:?}");
}
