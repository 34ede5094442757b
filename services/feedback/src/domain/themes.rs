//! The theme vocabulary: hierarchical, edited by coordinators, held as events on
//! `theme-<id>` streams. A merged theme keeps its id; items tagged with it count under the
//! theme it was merged into.

use std::collections::BTreeMap;

use super::Rejection;

pub use heard_contracts::feedback::{THEME, ThemeAdded, ThemeMerged, ThemeRenamed};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Theme {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    pub merged_into: Option<String>,
}

/// Every theme, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vocabulary {
    pub themes: BTreeMap<String, Theme>,
}

fn key(name: &str) -> String {
    name.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A theme id from its name: "Access and waiting times" → "access-and-waiting-times".
pub fn theme_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').chars().take(60).collect()
}

impl Vocabulary {
    pub fn added(&mut self, event: ThemeAdded) {
        self.themes.insert(
            event.theme.clone(),
            Theme { id: event.theme, name: event.name, parent: event.parent, merged_into: None },
        );
    }

    pub fn renamed(&mut self, theme: &str, event: ThemeRenamed) {
        if let Some(found) = self.themes.get_mut(theme) {
            found.name = event.name;
        }
    }

    pub fn merged(&mut self, theme: &str, event: ThemeMerged) {
        if let Some(found) = self.themes.get_mut(theme) {
            found.merged_into = Some(event.into);
        }
    }

    /// The live theme an id stands for, following merges.
    pub fn resolve(&self, id: &str) -> Option<&Theme> {
        let mut theme = self.themes.get(id)?;
        for _ in 0..self.themes.len() {
            match &theme.merged_into {
                Some(into) => theme = self.themes.get(into)?,
                None => return Some(theme),
            }
        }
        None
    }

    /// Finds a live theme by name or id, ignoring case and extra spaces.
    pub fn find(&self, name_or_id: &str) -> Option<&Theme> {
        let wanted = key(name_or_id);
        self.themes
            .values()
            .find(|theme| key(&theme.name) == wanted || theme.id == wanted)
            .and_then(|theme| self.resolve(&theme.id))
    }

    /// Live (not merged) themes, by name.
    pub fn live(&self) -> Vec<&Theme> {
        let mut live: Vec<&Theme> = self.themes.values().filter(|theme| theme.merged_into.is_none()).collect();
        live.sort_by_key(|theme| key(&theme.name));
        live
    }

    fn name_taken(&self, name: &str, except: Option<&str>) -> bool {
        self.live().iter().any(|theme| key(&theme.name) == key(name) && Some(theme.id.as_str()) != except)
    }

    pub fn add(&self, name: &str, parent: Option<&str>) -> Result<ThemeAdded, Rejection> {
        let name = check_name(name)?;
        if self.name_taken(&name, None) {
            return Err(Rejection::Invalid {
                field: "name".into(),
                message: "there is already a theme with this name".into(),
            });
        }
        let parent = match parent {
            None => None,
            Some(parent) => Some(
                self.find(parent)
                    .ok_or_else(|| Rejection::Invalid {
                        field: "parent".into(),
                        message: "there is no such theme".into(),
                    })?
                    .id
                    .clone(),
            ),
        };
        let mut theme = theme_id(&name);
        if theme.is_empty() {
            return Err(Rejection::Invalid { field: "name".into(), message: "a name needs a letter or digit".into() });
        }
        let base = theme.clone();
        let mut n = 2;
        while self.themes.contains_key(&theme) {
            theme = format!("{base}-{n}");
            n += 1;
        }
        Ok(ThemeAdded { theme, name, parent })
    }

    pub fn rename(&self, theme: &str, name: &str) -> Result<ThemeRenamed, Rejection> {
        let found = self.live_theme(theme, "id")?;
        let name = check_name(name)?;
        if self.name_taken(&name, Some(&found.id)) {
            return Err(Rejection::Invalid {
                field: "name".into(),
                message: "there is already a theme with this name".into(),
            });
        }
        Ok(ThemeRenamed { name })
    }

    /// Merges `from` into `into`. Items tagged `from` count under `into` from now on.
    pub fn merge(&self, from: &str, into: &str) -> Result<ThemeMerged, Rejection> {
        let from = self.live_theme(from, "from")?;
        let into = self.live_theme(into, "into")?;
        if from.id == into.id {
            return Err(Rejection::Invalid {
                field: "into".into(),
                message: "a theme cannot be merged into itself".into(),
            });
        }
        // Merging a parent into one of its own descendants would make a loop.
        let mut ancestor = into.parent.clone();
        while let Some(id) = ancestor {
            if id == from.id {
                return Err(Rejection::Invalid {
                    field: "into".into(),
                    message: "a theme cannot be merged into one of its own sub-themes".into(),
                });
            }
            ancestor = self.themes.get(&id).and_then(|theme| theme.parent.clone());
        }
        Ok(ThemeMerged { into: into.id.clone() })
    }

    fn live_theme(&self, id: &str, field: &str) -> Result<&Theme, Rejection> {
        self.themes.get(id).filter(|theme| theme.merged_into.is_none()).ok_or_else(|| Rejection::Invalid {
            field: field.into(),
            message: "there is no such theme (or it was merged)".into(),
        })
    }
}

fn check_name(name: &str) -> Result<String, Rejection> {
    const MESSAGE: &str = "a theme name is 1–80 characters";
    let name = super::required("name", name, 80, MESSAGE)?;
    if name.chars().any(char::is_control) {
        return Err(Rejection::invalid("name", MESSAGE));
    }
    Ok(name)
}

/// The starting vocabulary, from what people in West Sussex raised: (group, themes).
pub fn seed() -> Vec<ThemeAdded> {
    let groups: [(&str, &[&str]); 5] = [
        ("Getting help", &["Access and waiting times", "Opening hours", "Rural transport"]),
        (
            "How people are treated",
            &[
                "Staff attitudes and stigma",
                "Power imbalance",
                "Personalisation and choice",
                "Women",
                "BME and language",
            ],
        ),
        (
            "Treatment",
            &[
                "Keyworker time",
                "Prescribing and OAT administration",
                "Dual diagnosis (mental health)",
                "GP and pharmacy experience",
            ],
        ),
        (
            "Life beyond treatment",
            &[
                "Housing and ghettoisation",
                "Aftercare and falling off a cliff",
                "Through-care and prison release",
                "Family and children",
                "Meaningful activity and employment",
            ],
        ),
        ("Recovery and community", &["Peer support and mutual aid", "Hope and role models"]),
    ];
    let mut themes = Vec::new();
    for (group, children) in groups {
        let parent = theme_id(group);
        themes.push(ThemeAdded { theme: parent.clone(), name: group.to_owned(), parent: None });
        for child in children {
            themes.push(ThemeAdded { theme: theme_id(child), name: (*child).to_owned(), parent: Some(parent.clone()) });
        }
    }
    themes
}
