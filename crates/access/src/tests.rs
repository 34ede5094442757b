//! The policy as a matrix: every role (and nobody logged in) × every action × in scope and out
//! of scope. Each row is written out by hand, so a change to the policy must change this table.
//!
//! `A` allowed · `F` forbidden · `N` denied as not found (existence concealed) ·
//! `U` unauthenticated.

use super::*;

const ARUN: &str = "arun";
const CRAWLEY: &str = "crawley";

/// Columns, in this order.
const COLUMNS: [&str; 8] = [
    "hub_member",
    "hub_coordinator",
    "advocate",
    "complaints_handler",
    "commissioner",
    "provider_responder",
    "administrator",
    "anonymous",
];

fn actor(column: &str) -> Actor {
    if column == "anonymous" {
        return Actor::anonymous();
    }
    let role: Role = column.parse().unwrap();
    Actor {
        account: Some(Uuid::from_u128(1)),
        roles: BTreeSet::from([role]),
        hubs: if role.needs_hub() { BTreeSet::from([ARUN.to_owned()]) } else { BTreeSet::new() },
        provider: role.needs_provider().then(|| "cgl".to_owned()),
    }
}

fn own() -> Uuid {
    Uuid::from_u128(1)
}

fn someone_else() -> Uuid {
    Uuid::from_u128(2)
}

fn account_in(hub: &str) -> Resource {
    Resource::Account { id: someone_else(), hubs: BTreeSet::from([hub.to_owned()]) }
}

fn outcome(decision: Decision) -> char {
    match decision {
        Decision::Allow => 'A',
        Decision::Deny(Denial { unauthenticated: true, .. }) => 'U',
        Decision::Deny(Denial { conceal: true, .. }) => 'N',
        Decision::Deny(_) => 'F',
    }
}

fn feedback(hub: &str, consent: Option<Consent>, shared: bool, provider: &str, safeguarding: Option<Uuid>) -> Resource {
    Resource::Feedback(FeedbackFacts {
        item: Uuid::from_u128(99),
        hub: hub.to_owned(),
        provider: Some(provider.to_owned()),
        consent,
        shared,
        safeguarding,
    })
}

fn hub(id: &str) -> Resource {
    Resource::Hub { hub: id.to_owned() }
}

fn case(advocate: Uuid) -> Resource {
    Resource::Case(CaseFacts { case: Uuid::from_u128(77), advocate })
}

fn complaint(provider: &str, relayed_by: Option<Uuid>) -> Resource {
    Resource::Complaint(ComplaintFacts { complaint: Uuid::from_u128(66), provider: provider.to_owned(), relayed_by })
}

/// (action, scope, resource, expected per column)
fn person(hubs: &[&str], advocates: &[Uuid], complained: bool, relayed_by: &[Uuid]) -> Resource {
    Resource::Person(PersonFacts {
        person: Uuid::from_u128(55),
        hubs: hubs.iter().map(|hub| (*hub).to_owned()).collect(),
        advocates: advocates.iter().copied().collect(),
        complained,
        relayed_by: relayed_by.iter().copied().collect(),
    })
}

fn attribution(person: Resource, record: PersonRecord) -> Resource {
    let Resource::Person(person) = person else { unreachable!("a person") };
    Resource::Attribution { person, record }
}

fn matrix() -> Vec<(Action, &'static str, Resource, &'static str)> {
    use Action::*;
    let own_account = Resource::Account { id: own(), hubs: BTreeSet::from([ARUN.to_owned()]) };
    let arun_unshared = feedback(ARUN, Some(Consent::Commissioners), false, "cgl", None);
    let crawley_unshared = feedback(CRAWLEY, Some(Consent::Public), false, "cgl", None);
    let for_commissioners = feedback(CRAWLEY, Some(Consent::Commissioners), true, "cgl", None);
    let other_provider = feedback(CRAWLEY, Some(Consent::Commissioners), true, "addaction", None);
    let crawley_public = feedback(CRAWLEY, Some(Consent::Public), true, "cgl", None);
    let withdrawn = feedback(CRAWLEY, None, true, "cgl", None);
    let hub_only = feedback(CRAWLEY, Some(Consent::Hub), true, "cgl", None);
    let in_my_queue = feedback(ARUN, Some(Consent::Public), true, "cgl", Some(own()));
    let their_queue = feedback(ARUN, Some(Consent::Public), true, "cgl", Some(someone_else()));
    let crawley_unshared_for_commissioners = feedback(CRAWLEY, Some(Consent::Commissioners), false, "cgl", None);
    let arun_public = feedback(ARUN, Some(Consent::Public), true, "cgl", None);
    let arun_public_unshared = feedback(ARUN, Some(Consent::Public), false, "cgl", None);
    let elsewhere = complaint("addaction", Some(someone_else()));
    let crawley_named_to_me = feedback(CRAWLEY, Some(Consent::Hub), false, "cgl", Some(own()));
    let arun_flagged_by_nobody = feedback(ARUN, Some(Consent::Hub), false, "cgl", None);
    vec![
        //                                                                   mem crd adv cmp com prv adm anon
        (ViewAccount, "in scope: a colleague in the same hub", account_in(ARUN), "NANNNNAU"),
        (ViewAccount, "out of scope: an account in another hub", account_in(CRAWLEY), "NNNNNNAU"),
        (ViewAccount, "in scope: their own account", own_account, "AAAAAAAU"),
        (ListAccounts, "in scope", Resource::System, "FAFFFFAU"),
        (ListAccounts, "out of scope", Resource::System, "FAFFFFAU"),
        (ListAdvocates, "in scope", Resource::System, "FFAFFFAU"),
        (ListAdvocates, "out of scope: a hub", hub(ARUN), "FFFFFFAU"),
        (ListCoordinators, "in scope: their hub", hub(ARUN), "AAFFFFAU"),
        (ListCoordinators, "out of scope: another hub", hub(CRAWLEY), "FFFFFFAU"),
        (ListComplaintHandlers, "in scope", Resource::System, "FFFAFFFU"),
        (ListComplaintHandlers, "out of scope: a complaint", complaint("cgl", Some(own())), "FFFFFFFU"),
        (CreateAccount, "in scope", Resource::System, "FFFFFFAU"),
        (CreateAccount, "out of scope", Resource::System, "FFFFFFAU"),
        (ChangeRoles, "in scope: an account in the same hub", account_in(ARUN), "FFFFFFAU"),
        (ChangeRoles, "out of scope: an account in another hub", account_in(CRAWLEY), "FFFFFFAU"),
        (UnlockAccount, "in scope: an account in the same hub", account_in(ARUN), "FFFFFFAU"),
        (UnlockAccount, "out of scope: an account in another hub", account_in(CRAWLEY), "FFFFFFAU"),
        (DeactivateAccount, "in scope: an account in the same hub", account_in(ARUN), "FFFFFFAU"),
        (DeactivateAccount, "out of scope: an account in another hub", account_in(CRAWLEY), "FFFFFFAU"),
        (ResetPassword, "in scope: an account in the same hub", account_in(ARUN), "FFFFFFAU"),
        (ResetPassword, "out of scope: an account in another hub", account_in(CRAWLEY), "FFFFFFAU"),
        (ManageSessions, "in scope: their own", Resource::OwnedBy { account: own() }, "AAAAAAAU"),
        (ManageSessions, "out of scope: someone else's", Resource::OwnedBy { account: someone_else() }, "NNNNNNAU"),
        (ManageApiTokens, "in scope: their own", Resource::OwnedBy { account: own() }, "AAAAAAAU"),
        (ManageApiTokens, "out of scope: someone else's", Resource::OwnedBy { account: someone_else() }, "NNNNNNAU"),
        (ViewAccessLog, "in scope", Resource::System, "FFFFFFAU"),
        (ViewAccessLog, "out of scope", Resource::System, "FFFFFFAU"),
        (ViewReferenceData, "in scope", Resource::ReferenceData, "AAAAAAAA"),
        (ViewReferenceData, "out of scope", Resource::ReferenceData, "AAAAAAAA"),
        (EditReferenceData, "in scope", Resource::ReferenceData, "FFFFFFAU"),
        (EditReferenceData, "out of scope", Resource::ReferenceData, "FFFFFFAU"),
        (LogFeedback, "in scope: their hub", hub(ARUN), "AAFFFFFU"),
        (LogFeedback, "out of scope: another hub", hub(CRAWLEY), "FFFFFFFU"),
        (LogFeedback, "in scope: anywhere (some hub of theirs)", Resource::System, "AAFFFFFU"),
        (RecordMeeting, "in scope: their hub", hub(ARUN), "AAFFFFFU"),
        (RecordMeeting, "out of scope: another hub", hub(CRAWLEY), "FFFFFFFU"),
        (ViewQueue, "in scope: their hub", hub(ARUN), "FAFFFFFU"),
        (ViewQueue, "out of scope: another hub", hub(CRAWLEY), "FFFFFFFU"),
        (KeepGazetteer, "in scope: their hub", hub(ARUN), "FAFFFFFU"),
        (KeepGazetteer, "out of scope: another hub", hub(CRAWLEY), "FFFFFFFU"),
        (ImportFeedback, "in scope: their hub", hub(ARUN), "FAFFFFFU"),
        (ImportFeedback, "out of scope: another hub", hub(CRAWLEY), "FFFFFFFU"),
        (ImportFeedback, "in scope: anywhere (some hub of theirs)", Resource::System, "FAFFFFFU"),
        (ViewFeedback, "in scope: their hub's item, not yet shared", arun_unshared.clone(), "AANNNNNN"),
        (ViewFeedback, "out of scope: another hub's item, not yet shared", crawley_unshared.clone(), "NNNNNNNN"),
        (
            ViewFeedback,
            "in scope: shared with commissioners, about their provider",
            for_commissioners.clone(),
            "NNNNAANN",
        ),
        (ViewFeedback, "out of scope: shared with commissioners, about another provider", other_provider, "NNNNANNN"),
        (ViewFeedback, "in scope: shared and public", crawley_public.clone(), "AAAAAAAA"),
        (ViewFeedback, "out of scope: consent withdrawn", withdrawn, "NNNNNNNN"),
        (ViewFeedback, "out of scope: shared but the speaker agreed to the hub only", hub_only, "NNNNNNNN"),
        (ViewFeedback, "in scope: safeguarding, in their own queue", in_my_queue.clone(), "NANNNNNN"),
        (ViewFeedback, "out of scope: safeguarding, in another coordinator's queue", their_queue.clone(), "NNNNNNNN"),
        (ModerateFeedback, "in scope: their hub's item", arun_unshared, "FANNNNNU"),
        (ModerateFeedback, "out of scope: another hub's item", crawley_unshared_for_commissioners.clone(), "NNNNNNNU"),
        (ChangeConsent, "in scope: their hub's item", arun_public, "AANNNNNU"),
        (ChangeConsent, "out of scope: another hub's shared item", crawley_public, "NNNNNNNU"),
        (FlagSafeguarding, "in scope: their hub's item", arun_public_unshared, "AANNNNNU"),
        (FlagSafeguarding, "out of scope: another hub's item", crawley_unshared, "NNNNNNNU"),
        (FollowUpSafeguarding, "in scope: the safeguarding page", Resource::System, "FAFFFFFU"),
        (FollowUpSafeguarding, "in scope: who has their hub's disclosures", hub(ARUN), "FAFFFFFU"),
        (FollowUpSafeguarding, "out of scope: another hub's disclosures", hub(CRAWLEY), "FFFFFFFU"),
        (FollowUpSafeguarding, "in scope: a disclosure with them", in_my_queue.clone(), "NANNNNNU"),
        (FollowUpSafeguarding, "out of scope: a disclosure with another coordinator", their_queue.clone(), "NNNNNNNU"),
        (FollowUpSafeguarding, "out of scope: another hub's disclosure named to them", crawley_named_to_me, "NNNNNNNU"),
        (FollowUpSafeguarding, "out of scope: an item nobody flagged", arun_flagged_by_nobody, "NNNNNNNU"),
        (EditThemes, "in scope", Resource::Themes, "FAFFFFAU"),
        (EditThemes, "out of scope", Resource::Themes, "FAFFFFAU"),
        //                                                                   mem crd adv cmp com prv adm anon
        (ReferCase, "in scope", Resource::System, "FFAFFFFU"),
        (ReferCase, "out of scope", Resource::System, "FFAFFFFU"),
        (ViewCase, "in scope: a case assigned to them", case(own()), "NNANNNNU"),
        (ViewCase, "out of scope: a case assigned to another advocate", case(someone_else()), "NNNNNNNU"),
        (WorkCase, "in scope: a case assigned to them", case(own()), "NNANNNNU"),
        (WorkCase, "out of scope: a case assigned to another advocate", case(someone_else()), "NNNNNNNU"),
        (ViewAdvocacyThemes, "in scope", Resource::System, "FFAFAFFU"),
        (ViewAdvocacyThemes, "out of scope", Resource::System, "FFAFAFFU"),
        (RaiseComplaint, "in scope", Resource::System, "AAAAFFFU"),
        (RaiseComplaint, "out of scope", Resource::System, "AAAAFFFU"),
        (ViewComplaint, "in scope: about their provider, relayed by them", complaint("cgl", Some(own())), "NNAANANU"),
        (ViewComplaint, "out of scope: about another provider, relayed by someone else", elsewhere.clone(), "NNNANNNU"),
        (ViewComplainant, "in scope: about their provider, relayed by them", complaint("cgl", Some(own())), "NNAANFNU"),
        (
            ViewComplainant,
            "out of scope: about another provider, relayed by someone else",
            elsewhere.clone(),
            "NNNANNNU",
        ),
        (HandleComplaint, "in scope: about their provider, relayed by them", complaint("cgl", Some(own())), "NNFANFNU"),
        (HandleComplaint, "out of scope: about another provider, relayed by someone else", elsewhere, "NNNANNNU"),
        (HandleComplaint, "in scope: the overdue queue", Resource::System, "FFFAFFFU"),
        (ViewComplaintPatterns, "in scope", Resource::System, "FFFAAFFU"),
        (ViewComplaintPatterns, "out of scope", Resource::System, "FFFAAFFU"),
        (RecordDecision, "in scope", Resource::System, "FFFFAFFU"),
        (RecordDecision, "out of scope", Resource::System, "FFFFAFFU"),
        (ViewDecision, "in scope", Resource::System, "AAAAAAFU"),
        (ViewDecision, "out of scope", Resource::System, "AAAAAAFU"),
        (AnswerFeedback, "in scope: shared with commissioners", for_commissioners.clone(), "NNNNAFNU"),
        (AnswerFeedback, "out of scope: not shared yet", crawley_unshared_for_commissioners, "NNNNNNNU"),
        (ViewReport, "in scope", Resource::System, "AAAAAAAA"),
        (ViewReport, "out of scope", Resource::System, "AAAAAAAA"),
        (BuildReport, "in scope", Resource::System, "FAFFAFFU"),
        (BuildReport, "out of scope: a single hub", hub(ARUN), "FFFFFFFU"),
        (RelayComplaint, "in scope", Resource::System, "FFAFFFFU"),
        (RelayComplaint, "out of scope: a complaint", complaint("cgl", Some(own())), "FFFFFFFU"),
        (AnswerForProvider, "in scope", Resource::System, "FFFFFAFU"),
        (AnswerForProvider, "out of scope: a complaint about their provider", complaint("cgl", None), "FFFFFFFU"),
        //                                                                   mem crd adv cmp com prv adm anon
        (EraseSubject, "in scope: items in their hub", person(&[ARUN], &[], false, &[]), "NANNNNNU"),
        (EraseSubject, "in scope: a case assigned to them", person(&[], &[own()], false, &[]), "NNANNNNU"),
        (EraseSubject, "in scope: a complaint relayed by them", person(&[], &[], true, &[own()]), "NNAANNNU"),
        (EraseSubject, "in scope: a complaint", person(&[], &[], true, &[]), "NNNANNNU"),
        (
            EraseSubject,
            "out of scope: another hub's items and another advocate's case",
            person(&[CRAWLEY], &[someone_else()], false, &[]),
            "NNNNNNNU",
        ),
        (EraseSubject, "out of scope: a person with no records", person(&[], &[], false, &[]), "NNNNNNNU"),
        (EraseSubject, "out of scope: not one person", Resource::System, "FFFFFFFU"),
        (ViewSubjectAccess, "in scope: items in their hub", person(&[ARUN], &[], false, &[]), "NANNNNNU"),
        (ViewSubjectAccess, "in scope: a case assigned to them", person(&[], &[own()], false, &[]), "NNANNNNU"),
        (ViewSubjectAccess, "in scope: a complaint", person(&[], &[], true, &[]), "NNNANNNU"),
        (ViewSubjectAccess, "in scope: a complaint relayed by them", person(&[], &[], true, &[own()]), "NNAANNNU"),
        (ViewSubjectAccess, "out of scope: a person with no records", person(&[], &[], false, &[]), "NNNNNNNU"),
        (
            ViewSubjectAccess,
            "out of scope: another hub's items and another advocate's case",
            person(&[CRAWLEY], &[someone_else()], false, &[]),
            "NNNNNNNU",
        ),
        (ViewSubjectAccess, "out of scope: not one person", Resource::System, "FFFFFFFU"),
        // Saying a record is a known person's: judged on who holds the person's records before.
        // The record's own rule (moderating the item, working the case, handling the complaint)
        // is asked first, so an `A` here lets nobody attribute a record they do not hold.
        //                                                                   mem crd adv cmp com prv adm anon
        (
            AttributeToPerson,
            "in scope: an item, for a person with items in their hub",
            attribution(person(&[ARUN], &[], false, &[]), PersonRecord::FeedbackItem),
            "NANNNNNU",
        ),
        (
            AttributeToPerson,
            "out of scope: an item, for a person whose items are in another hub",
            attribution(person(&[CRAWLEY], &[], false, &[]), PersonRecord::FeedbackItem),
            "NNNNNNNU",
        ),
        (
            AttributeToPerson,
            "in scope: an item, for a person known only from a case (a link between services)",
            attribution(person(&[], &[someone_else()], false, &[]), PersonRecord::FeedbackItem),
            "AAAAAAAU",
        ),
        (
            AttributeToPerson,
            "in scope: a case, for a person whose case is assigned to them",
            attribution(person(&[], &[own()], false, &[]), PersonRecord::Case),
            "NNANNNNU",
        ),
        (
            AttributeToPerson,
            "out of scope: a case, for a person whose case is with another advocate",
            attribution(person(&[], &[someone_else()], false, &[]), PersonRecord::Case),
            "NNNNNNNU",
        ),
        (
            AttributeToPerson,
            "in scope: a case, for a person known only to a hub (a link between services)",
            attribution(person(&[CRAWLEY], &[], false, &[]), PersonRecord::Case),
            "AAAAAAAU",
        ),
        (
            AttributeToPerson,
            "in scope: a case, for a person whose case is with another advocate and who complained through them",
            attribution(person(&[], &[someone_else()], true, &[own()]), PersonRecord::Case),
            "NNAANNNU",
        ),
        (
            AttributeToPerson,
            "in scope: a complaint, for a person who complained",
            attribution(person(&[], &[], true, &[]), PersonRecord::Complaint),
            "NNNANNNU",
        ),
        (
            AttributeToPerson,
            "in scope: a complaint, for a person who complained through them",
            attribution(person(&[], &[], true, &[own()]), PersonRecord::Complaint),
            "NNAANNNU",
        ),
        (AttributeToPerson, "out of scope: not one person", Resource::System, "FFFFFFFU"),
    ]
}

#[test]
fn every_role_action_and_scope_gets_the_decision_in_the_table() {
    let mut wrong = Vec::new();
    for (action, scope, resource, expected) in matrix() {
        for (column, want) in COLUMNS.iter().zip(expected.chars()) {
            let got = outcome(may(&actor(column), action, &resource));
            if got != want {
                wrong.push(format!("{column} × {} × {scope}: expected {want}, got {got}", action.as_str()));
            }
        }
    }
    assert!(wrong.is_empty(), "the policy disagrees with the matrix:\n{}", wrong.join("\n"));
}

#[test]
fn the_matrix_covers_every_action_in_and_out_of_scope() {
    let rows = matrix();
    for action in Action::ALL {
        let scopes: Vec<&str> = rows.iter().filter(|row| row.0 == action).map(|row| row.1).collect();
        assert!(scopes.iter().any(|s| s.starts_with("in scope")), "{} has no in-scope row", action.as_str());
        assert!(scopes.iter().any(|s| s.starts_with("out of scope")), "{} has no out-of-scope row", action.as_str());
    }
    assert_eq!(COLUMNS.len(), Role::ALL.len() + 1, "one column per role, plus nobody logged in");
}

#[test]
fn an_out_of_scope_account_read_is_concealed_as_not_found_for_every_role_but_administrator() {
    for role in Role::ALL.into_iter().filter(|role| *role != Role::Administrator) {
        let decision = may(&actor(role.as_str()), Action::ViewAccount, &account_in(CRAWLEY));
        assert!(matches!(decision, Decision::Deny(Denial { conceal: true, .. })), "{role}: {decision:?}");
    }
}

#[test]
fn roles_parse_from_the_spellings_people_type() {
    assert_eq!("hub-coordinator".parse::<Role>(), Ok(Role::HubCoordinator));
    assert_eq!("HUB_COORDINATOR".parse::<Role>(), Ok(Role::HubCoordinator));
    assert_eq!("Provider responder".parse::<Role>(), Ok(Role::ProviderResponder));
    let error = "boss".parse::<Role>().unwrap_err();
    assert!(error.contains("`boss` is not a role") && error.contains("administrator"), "{error}");
}

#[test]
fn administrators_see_no_feedback_content_by_virtue_of_their_role() {
    let admin = actor("administrator");
    let unshared = FeedbackFacts {
        item: Uuid::from_u128(5),
        hub: ARUN.into(),
        provider: None,
        consent: Some(Consent::Commissioners),
        shared: false,
        safeguarding: None,
    };
    assert_eq!(feedback_view(&admin, &unshared), None);
    let mut coordinator = actor("hub_coordinator");
    assert_eq!(feedback_view(&coordinator, &unshared), Some(FeedbackView::Hub));
    coordinator.hubs.clear();
    assert_eq!(feedback_view(&coordinator, &unshared), None, "hub scope is what counts");
}

#[test]
fn counts_from_one_to_four_are_suppressed_and_five_or_more_are_shown() {
    assert_eq!(publishable_count(0), Some(0));
    for small in 1..SUPPRESS_BELOW {
        assert_eq!(publishable_count(small), None, "{small} could identify someone");
    }
    assert_eq!(publishable_count(5), Some(5));
    assert_eq!(publishable_count(120), Some(120));
}

#[test]
fn a_provider_responder_sees_a_relayed_complaint_about_their_provider_but_never_who_made_it() {
    let responder = actor("provider_responder");
    let relayed = complaint("cgl", Some(someone_else()));
    assert!(may(&responder, Action::ViewComplaint, &relayed).is_allowed());
    assert!(!may(&responder, Action::ViewComplainant, &relayed).is_allowed());
    assert!(!may(&responder, Action::HandleComplaint, &relayed).is_allowed());
}

#[test]
fn an_id_heard_did_not_give_out_is_kept_only_as_a_short_hash() {
    assert_eq!(crate::recordable_id("arun"), "arun");
    let uuid = someone_else().to_string();
    assert_eq!(crate::recordable_id(&uuid), uuid);
    let huge = "x".repeat(100_000);
    let kept = crate::recordable_id(&huge);
    assert!(kept.starts_with("sha256:") && kept.len() == 23, "{kept}");
    let typed = crate::recordable_id("Delphine Smith");
    assert!(!typed.contains("Delphine"), "a typed name is not kept: {typed}");
    assert_eq!(typed, crate::recordable_id("Delphine Smith"), "the same id always gives the same hash");
}

#[test]
fn each_role_reaches_the_feedback_its_feedback_view_allows() {
    for column in [
        "anonymous",
        "hub_member",
        "hub_coordinator",
        "commissioner",
        "provider_responder",
        "advocate",
        "administrator",
    ] {
        let asker = actor(column);
        let reach = feedback_reach(&asker);
        let expected_hubs = if matches!(column, "hub_member" | "hub_coordinator") {
            BTreeSet::from([ARUN.to_owned()])
        } else {
            BTreeSet::new()
        };
        assert_eq!(reach.own_hubs, expected_hubs, "{column} reads the words of its own hub only");
        let expected = match column {
            "commissioner" => SharedReach::Commissioners,
            "provider_responder" => SharedReach::Provider(asker.provider.clone().unwrap()),
            _ => SharedReach::Public,
        };
        assert_eq!(reach.shared, expected, "{column}");
    }
}

#[test]
fn safeguarding_goes_only_to_a_coordinator_of_the_hub() {
    let arun = BTreeSet::from([ARUN.to_owned()]);
    assert!(takes_safeguarding_for(&BTreeSet::from([Role::HubCoordinator]), &arun, ARUN));
    assert!(!takes_safeguarding_for(&BTreeSet::from([Role::HubCoordinator]), &arun, "crawley"));
    assert!(!takes_safeguarding_for(&BTreeSet::from([Role::HubMember]), &arun, ARUN));
    assert!(!takes_safeguarding_for(&BTreeSet::from([Role::Commissioner]), &BTreeSet::new(), ARUN));
}

#[test]
fn cases_are_handed_only_to_accounts_holding_the_advocate_role() {
    assert!(can_be_handed_cases(&BTreeSet::from([Role::Advocate])));
    assert!(can_be_handed_cases(&BTreeSet::from([Role::HubMember, Role::Advocate])));
    for role in Role::ALL.into_iter().filter(|role| *role != Role::Advocate) {
        assert!(!can_be_handed_cases(&BTreeSet::from([role])), "{role}");
    }
    assert!(!can_be_handed_cases(&BTreeSet::new()));
}

#[test]
fn complaints_are_assigned_only_to_accounts_holding_the_complaints_handler_role() {
    assert!(can_be_assigned_complaints(&BTreeSet::from([Role::ComplaintsHandler])));
    assert!(can_be_assigned_complaints(&BTreeSet::from([Role::Commissioner, Role::ComplaintsHandler])));
    for role in Role::ALL.into_iter().filter(|role| *role != Role::ComplaintsHandler) {
        assert!(!can_be_assigned_complaints(&BTreeSet::from([role])), "{role}");
    }
}
