//! The reference data Heard starts with: the EXACT network in West Sussex. Other areas add
//! their own hubs and providers through GraphQL; these are only seeds.

use super::events::{HubAdded, HubKind, ProviderAdded};

/// Six local hubs covering seven districts, and the West Sussex Forum they all belong to.
pub fn exact_hubs() -> Vec<HubAdded> {
    let hub = |id: &str, name: &str| HubAdded {
        hub: id.to_owned(),
        name: name.to_owned(),
        kind: HubKind::Hub,
        area: "West Sussex".to_owned(),
    };
    vec![
        hub("adur-worthing", "Adur & Worthing"),
        hub("arun", "Arun"),
        hub("chichester", "Chichester"),
        hub("crawley", "Crawley"),
        hub("horsham", "Horsham"),
        hub("mid-sussex", "Mid-Sussex"),
        HubAdded {
            hub: "west-sussex-forum".to_owned(),
            name: "West Sussex Forum".to_owned(),
            kind: HubKind::Forum,
            area: "West Sussex".to_owned(),
        },
    ]
}

/// A handful of the services people talk about.
pub fn seed_providers() -> Vec<ProviderAdded> {
    [
        ("addaction", "Addaction"),
        ("cri", "CRI (Crime Reduction Initiatives)"),
        ("sussex-partnership", "Sussex Partnership NHS Foundation Trust"),
        ("community-pharmacies", "Community pharmacies"),
        ("gp-practices", "GP practices"),
        ("housing-services", "Housing and supported accommodation"),
    ]
    .into_iter()
    .map(|(id, name)| ProviderAdded { provider: id.to_owned(), name: name.to_owned() })
    .collect()
}
