//! The registry: every mission and the sources Pantau watches for it.
//!
//! The data lives in `shared/registry/missions.toml`, embedded in every binary. Loading reads the
//! file entry by entry, so a wrong field is reported with the entry it sits in
//! (`missions.toml: mission "tokio" (entry 18): time_zone "Asia/Tokio" is not a known IANA zone`),
//! then [`Registry::validate`] checks what types cannot: unique ids, ids fit for S3 keys, URLs,
//! zones, country codes. Every problem found is reported, not only the first.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::{Mission, MissionKind, Role, Source, SourceKind};

pub mod hazard;
pub mod media;

/// Who a source belongs to when it is no single mission's.
pub const HQ_OWNER: &str = "pusat";
pub const GLOBAL_OWNER: &str = "global";

/// The registry data file, embedded at build time so every function carries the same missions.
pub const DEFAULT_REGISTRY_TOML: &str = include_str!("../registry/missions.toml");

/// How errors in the embedded file name it.
const DEFAULT_ORIGIN: &str = "missions.toml";

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Registry {
    pub missions: Vec<Mission>,
    /// Headquarters' own channels (owner `pusat`).
    pub hq_sources: Vec<Source>,
    /// Worldwide feeds fetched once for everyone (owner `global`).
    pub global_sources: Vec<Source>,
}

/// A source with what is needed to fetch and parse it.
#[derive(Debug, Clone, Copy)]
pub struct SourceRef<'a> {
    /// Mission id, `pusat` or `global`.
    pub owner: &'a str,
    pub source: &'a Source,
    /// IANA zone for dates the source gives without one.
    pub time_zone: &'a str,
}

impl Registry {
    pub fn mission(&self, id: &str) -> Option<&Mission> {
        self.missions.iter().find(|m| m.id == id)
    }

    pub fn sources(&self) -> impl Iterator<Item = SourceRef<'_>> {
        let missions = self.missions.iter().flat_map(|m| {
            m.sources.iter().map(move |s| SourceRef {
                owner: &m.id,
                source: s,
                time_zone: s.time_zone.as_deref().unwrap_or(&m.time_zone),
            })
        });
        let hq = self.hq_sources.iter().map(|s| SourceRef {
            owner: HQ_OWNER,
            source: s,
            time_zone: s.time_zone.as_deref().unwrap_or("Asia/Jakarta"),
        });
        let global = self.global_sources.iter().map(|s| SourceRef {
            owner: GLOBAL_OWNER,
            source: s,
            time_zone: s.time_zone.as_deref().unwrap_or("UTC"),
        });
        missions.chain(hq).chain(global)
    }

    pub fn source(&self, owner: &str, source: &str) -> Option<SourceRef<'_>> {
        self.sources()
            .find(|r| r.owner == owner && r.source.id == source)
    }

    /// The missions in one country, by ISO 3166-1 alpha-2 code (any case). Hong Kong (`HK`),
    /// Taiwan (`TW`), New Caledonia (`NC`) and the Holy See (`VA`) have their own codes.
    pub fn missions_in_country<'a>(
        &'a self,
        country_code: &'a str,
    ) -> impl Iterator<Item = &'a Mission> + 'a {
        self.missions
            .iter()
            .filter(move |m| m.country_code.eq_ignore_ascii_case(country_code))
    }

    /// How many sources there are in all: the missions', headquarters' and the global ones.
    pub fn len_sources(&self) -> usize {
        self.missions.iter().map(|m| m.sources.len()).sum::<usize>()
            + self.hq_sources.len()
            + self.global_sources.len()
    }

    /// Adds the ReliefWeb hazard source (owner `global`) with this approved application name,
    /// replacing one already there. The functions call it when `PANTAU_RELIEFWEB_APPNAME` is
    /// set ([`Registry::add_configured_sources`]).
    pub fn add_reliefweb(&mut self, appname: &str) {
        let source = hazard::reliefweb_source(appname);
        self.global_sources.retain(|s| s.id != source.id);
        self.global_sources.push(source);
    }

    /// Adds the sources the environment configures: ReliefWeb when
    /// `PANTAU_RELIEFWEB_APPNAME` is set (and not blank). Returns how many were added.
    pub fn add_configured_sources(&mut self) -> usize {
        match std::env::var(hazard::RELIEFWEB_APPNAME_ENV) {
            Ok(appname) if !appname.trim().is_empty() => {
                self.add_reliefweb(&appname);
                1
            }
            _ => 0,
        }
    }

    /// The registry in the repository (`shared/registry/missions.toml`), validated.
    pub fn load_default() -> Result<Registry, RegistryError> {
        Registry::from_toml(DEFAULT_REGISTRY_TOML, DEFAULT_ORIGIN)
    }

    /// A registry file on disk, validated; errors name the file.
    pub fn load_file(path: &Path) -> Result<Registry, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Read {
            path: path.to_owned(),
            source,
        })?;
        Registry::from_toml(&text, &path.display().to_string())
    }

    /// A registry from TOML text, validated. `origin` names the text in errors (a file name).
    pub fn from_toml(text: &str, origin: &str) -> Result<Registry, RegistryError> {
        let document: toml::Table = toml::from_str(text).map_err(|e| RegistryError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        Registry::from_toml_table(document, origin)
    }

    /// A registry from an already parsed TOML document, validated.
    pub fn from_toml_table(document: toml::Table, origin: &str) -> Result<Registry, RegistryError> {
        let mut problems = Vec::new();
        let mut registry = Registry::default();
        for (key, value) in document {
            match key.as_str() {
                "missions" => {
                    registry.missions = read_list(&key, value, &mut problems, read_mission);
                }
                "hq_sources" => {
                    let owner = Owner::Hq;
                    registry.hq_sources = read_list(&key, value, &mut problems, |i, v, p| {
                        read_source(&owner, i, v, p)
                    });
                }
                "global_sources" => {
                    let owner = Owner::Global;
                    registry.global_sources = read_list(&key, value, &mut problems, |i, v, p| {
                        read_source(&owner, i, v, p)
                    });
                }
                _ => problems.push(Problem::new(
                    "the document",
                    key.clone(),
                    "is not a known section (missions, hq_sources, global_sources)",
                )),
            }
        }
        // Every mission's media sources come from templates (`registry::media`), after the
        // ones the file lists: a listed source with a generated id replaces it.
        for mission in &mut registry.missions {
            media::add_media_sources(mission);
        }
        // Entries that did not read are missing from `registry`, so checking the rest would
        // number entries wrongly: report the shape problems alone first.
        if problems.is_empty() {
            problems = registry.problems();
        }
        if problems.is_empty() {
            Ok(registry)
        } else {
            Err(RegistryError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// Checks what the types cannot; every loader calls it. Errors carry the origin `registry`
    /// (the loaders name their file instead).
    pub fn validate(&self) -> Result<(), RegistryError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RegistryError::Invalid {
                origin: "registry".to_owned(),
                problems,
            })
        }
    }

    /// Every problem with the registry's content, in file order.
    fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut first_use: HashMap<&str, usize> = HashMap::new();
        for (index, mission) in self.missions.iter().enumerate() {
            let entry = mission_label(index, Some(&mission.id));
            let mut problem = |field: &str, detail: String| {
                problems.push(Problem::new(&entry, field, detail));
            };
            if let Some(detail) = id_problem(&mission.id) {
                problem("id", detail);
            } else if mission.id == HQ_OWNER || mission.id == GLOBAL_OWNER {
                problem(
                    "id",
                    format!(
                        "{:?} is reserved for sources of no single mission",
                        mission.id
                    ),
                );
            }
            match first_use.get(mission.id.as_str()) {
                Some(first) => problem(
                    "id",
                    format!("{:?} is already the id of entry {}", mission.id, first + 1),
                ),
                None => {
                    first_use.insert(&mission.id, index);
                }
            }
            if mission.city.trim().is_empty() {
                problem("city", "is empty".into());
            }
            if mission.country.trim().is_empty() {
                problem("country", "is empty".into());
            }
            let cc = &mission.country_code;
            if cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_uppercase()) {
                problem(
                    "country_code",
                    format!("{cc:?} is not two upper-case letters (ISO 3166-1 alpha-2)"),
                );
            } else if let Some(detail) = media::missing_country_problem(mission) {
                problem("country_code", detail);
            }
            if let Some(detail) = zone_problem(&mission.time_zone) {
                problem("time_zone", detail);
            }
            let owner = Owner::Mission {
                index,
                id: &mission.id,
            };
            source_problems(&owner, &mission.sources, &mut problems);
        }
        source_problems(&Owner::Hq, &self.hq_sources, &mut problems);
        source_problems(&Owner::Global, &self.global_sources, &mut problems);
        problems
    }
}

/// Why a registry could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{}: cannot read the registry: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML at all (the message gives line and column).
    #[error("{origin}: not valid TOML: {message}")]
    Syntax { origin: String, message: String },
    /// The TOML is well formed but entries are wrong; one line per problem.
    #[error("{}", render_problems(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

impl RegistryError {
    /// The entry-level problems (empty for read and syntax errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            RegistryError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render_problems(origin: &str, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{origin}: {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One thing wrong with one field of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which entry, e.g. `mission "tokyo" (entry 18)` or
    /// `mission "tokyo" (entry 18), source 1 "portal-berita"`; entries count from 1.
    pub entry: String,
    /// The field at fault, e.g. `time_zone`.
    pub field: String,
    /// What is wrong, e.g. `"Asia/Tokio" is not a known IANA zone`.
    pub detail: String,
}

impl Problem {
    fn new(entry: &str, field: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            entry: entry.to_owned(),
            field: field.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}", self.entry, self.field, self.detail)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading entry by entry. Each field is type-checked on its own so that a wrong value (an unknown
// kind, a string where a number belongs) is reported with its field, and unknown fields (typos
// that serde would silently drop) are refused.

/// Whose sources a list holds, for naming entries.
enum Owner<'a> {
    Mission { index: usize, id: &'a str },
    Hq,
    Global,
}

fn mission_label(index: usize, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("mission {id:?} (entry {})", index + 1),
        None => format!("mission entry {}", index + 1),
    }
}

fn source_label(owner: &Owner<'_>, index: usize, id: Option<&str>) -> String {
    let place = match owner {
        Owner::Mission { index, id } => format!("{}, source", mission_label(*index, Some(id))),
        Owner::Hq => "hq_sources entry".to_owned(),
        Owner::Global => "global_sources entry".to_owned(),
    };
    match id {
        Some(id) => format!("{place} {} {id:?}", index + 1),
        None => format!("{place} {}", index + 1),
    }
}

/// Reads an array of tables with `read_entry`, keeping the entries that read.
fn read_list<T>(
    key: &str,
    value: toml::Value,
    problems: &mut Vec<Problem>,
    mut read_entry: impl FnMut(usize, &toml::Value, &mut Vec<Problem>) -> Option<T>,
) -> Vec<T> {
    let toml::Value::Array(entries) = value else {
        problems.push(Problem::new(
            "the document",
            key,
            format!("must be an array of tables, not a {}", value.type_str()),
        ));
        return Vec::new();
    };
    entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| read_entry(index, entry, problems))
        .collect()
}

fn string_field<'v>(value: &'v toml::Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(toml::Value::as_str)
}

fn read_mission(index: usize, value: &toml::Value, problems: &mut Vec<Problem>) -> Option<Mission> {
    let entry = mission_label(index, string_field(value, "id"));
    let Some(table) = value.as_table() else {
        problems.push(Problem::new(&entry, "(entry)", "must be a table"));
        return None;
    };
    let before = problems.len();
    for (key, field) in table {
        let checked = match key.as_str() {
            "id" | "city" | "country" | "country_code" | "time_zone" => typed::<String>(field),
            "kind" => typed::<MissionKind>(field),
            "sources" => continue, // read below, entry by entry
            _ => Err("is not a known field".to_owned()),
        };
        if let Err(detail) = checked {
            problems.push(Problem::new(&entry, key.clone(), detail));
        }
    }
    for required in ["id", "kind", "city", "country", "country_code", "time_zone"] {
        if !table.contains_key(required) {
            problems.push(Problem::new(&entry, required, "is missing"));
        }
    }
    let sources = match table.get("sources") {
        None => Vec::new(),
        Some(toml::Value::Array(list)) => {
            let id = string_field(value, "id").unwrap_or("");
            let owner = Owner::Mission { index, id };
            list.iter()
                .enumerate()
                .filter_map(|(i, s)| read_source(&owner, i, s, problems))
                .collect()
        }
        Some(other) => {
            problems.push(Problem::new(
                &entry,
                "sources",
                format!("must be an array of tables, not a {}", other.type_str()),
            ));
            Vec::new()
        }
    };
    if problems.len() > before {
        return None;
    }
    let mut fields = table.clone();
    fields.remove("sources");
    let mut mission: Mission = deserialize_entry(&entry, fields, problems)?;
    mission.sources = sources;
    Some(mission)
}

fn read_source(
    owner: &Owner<'_>,
    index: usize,
    value: &toml::Value,
    problems: &mut Vec<Problem>,
) -> Option<Source> {
    let entry = source_label(owner, index, string_field(value, "id"));
    let Some(table) = value.as_table() else {
        problems.push(Problem::new(&entry, "(entry)", "must be a table"));
        return None;
    };
    let before = problems.len();
    for (key, field) in table {
        let checked = check_source_field(key, field)
            .unwrap_or_else(|| Err("is not a known field".to_owned()));
        if let Err(detail) = checked {
            problems.push(Problem::new(&entry, key.clone(), detail));
        }
    }
    for required in ["id", "kind", "role", "url"] {
        if !table.contains_key(required) {
            problems.push(Problem::new(&entry, required, "is missing"));
        }
    }
    if problems.len() > before {
        return None;
    }
    deserialize_entry(&entry, table.clone(), problems)
}

/// The type check of one source field; `None` for a field `Source` does not have.
fn check_source_field(key: &str, value: &toml::Value) -> Option<Result<(), String>> {
    Some(match key {
        "id" | "url" | "portal" | "section" | "language" | "time_zone" | "list_item" | "link"
        | "title" | "date" => typed::<String>(value),
        "kind" => typed::<SourceKind>(value),
        "role" => typed::<Role>(value),
        "cadence_minutes" => typed::<u32>(value),
        "conditional_get" | "follow_other_hosts" => typed::<bool>(value),
        _ => return None,
    })
}

/// Whether `value` reads as a `T`; the error shows the value and what was expected.
fn typed<T: DeserializeOwned>(value: &toml::Value) -> Result<(), String> {
    value
        .clone()
        .try_into::<T>()
        .map(drop)
        .map_err(|e| format!("{} is not valid: {}", show(value), e.message().trim_end()))
}

/// A value as an error message quotes it (toml's own `Display` needs a feature we do not build).
fn show(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => format!("(a {})", other.type_str()),
    }
}

/// The whole entry as its model type, once each field has passed its own check.
fn deserialize_entry<T: DeserializeOwned>(
    entry: &str,
    fields: toml::Table,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match toml::Value::Table(fields).try_into::<T>() {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            problems.push(Problem::new(entry, "(entry)", e.message().trim_end()));
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Content checks.

fn source_problems(owner: &Owner<'_>, sources: &[Source], problems: &mut Vec<Problem>) {
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    for (index, source) in sources.iter().enumerate() {
        let entry = source_label(owner, index, Some(&source.id));
        let mut problem = |field: &str, detail: String| {
            problems.push(Problem::new(&entry, field, detail));
        };
        if let Some(detail) = id_problem(&source.id) {
            problem("id", detail);
        }
        match first_use.get(source.id.as_str()) {
            Some(first) => problem(
                "id",
                format!(
                    "{:?} is already the id of source {} of the same owner",
                    source.id,
                    first + 1
                ),
            ),
            None => {
                first_use.insert(&source.id, index);
            }
        }
        if let Some(detail) = url_problem(&source.url) {
            problem("url", detail);
        }
        if source.cadence_minutes < 1 {
            problem("cadence_minutes", "must be at least 1 (minute)".into());
        }
        if let Some(zone) = &source.time_zone
            && let Some(detail) = zone_problem(zone)
        {
            problem("time_zone", detail);
        }
        if let Some(language) = &source.language
            && (language.is_empty()
                || !language
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            problem(
                "language",
                format!("{language:?} is not a language tag like `id` or `en`"),
            );
        }
        if source.kind == SourceKind::KemluPortal {
            // Both go into the portal API's query string.
            match &source.portal {
                None => problem(
                    "portal",
                    "is missing (a kemlu_portal source needs it)".into(),
                ),
                Some(portal) if !is_slug(portal, true) => problem(
                    "portal",
                    format!("{portal:?} is not a portal slug (letters, digits, `-`)"),
                ),
                Some(_) => {}
            }
            match &source.section {
                None => problem(
                    "section",
                    "is missing (a kemlu_portal source needs it)".into(),
                ),
                Some(section) if !is_slug(section, false) => problem(
                    "section",
                    format!("{section:?} is not a section slug ([a-z0-9-]+)"),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Mission and source ids appear in S3 keys and table keys: `[a-z0-9-]+`.
fn id_problem(id: &str) -> Option<String> {
    (!is_slug(id, false)).then(|| format!("{id:?} is not of the form [a-z0-9-]+"))
}

fn is_slug(s: &str, allow_upper: bool) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || b == b'-'
                || (allow_upper && b.is_ascii_uppercase())
        })
}

fn zone_problem(zone: &str) -> Option<String> {
    zone.parse::<chrono_tz::Tz>()
        .is_err()
        .then(|| format!("{zone:?} is not a known IANA zone"))
}

/// What is wrong with a source URL, if anything. Besides being an absolute http(s) URL, it
/// must not point the scraper inside the network it runs in (the fetcher refuses those again
/// at fetch time, and checks what names resolve to): no address that is not public, no
/// `localhost` or internal-only name, no credentials, no port but the scheme's own.
fn url_problem(raw: &str) -> Option<String> {
    let u = match url::Url::parse(raw) {
        Err(e) => return Some(format!("{raw:?} is not an absolute URL ({e})")),
        Ok(u) => u,
    };
    if !matches!(u.scheme(), "http" | "https") {
        return Some(format!("{raw:?} is not an http(s) URL"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Some(format!("{raw:?} carries a user name or password"));
    }
    let literal: Option<std::net::IpAddr> = match u.host() {
        None => return Some(format!("{raw:?} has no host")),
        Some(url::Host::Domain("")) => return Some(format!("{raw:?} has no host")),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let internal = [".localhost", ".local", ".internal", ".home.arpa"];
            if d == "localhost" || internal.iter().any(|suffix| d.ends_with(suffix)) {
                return Some(format!("{raw:?} names a host that is not on the internet"));
            }
            None
        }
        Some(url::Host::Ipv4(v4)) => Some(v4.into()),
        Some(url::Host::Ipv6(v6)) => Some(v6.into()),
    };
    if let Some(ip) = literal.filter(|ip| !crate::fetch::is_public(*ip)) {
        return Some(format!(
            "{raw:?} points at {ip}, which is not a public address"
        ));
    }
    // `Url` drops the scheme's default port, so any port left is another one.
    if let Some(port) = u.port() {
        return Some(format!(
            "{raw:?} names port {port}; sources are fetched on their scheme's own port"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference list has 134 rows (96 KBRI, 30 KJRI, 4 KRI, 3 PTRI, 1 KDEI) and 134 distinct
    /// portal slugs: the two New York rows are KJRI `newyork` and PTRI `newyork-un`, so nothing
    /// was merged. (The ministry counts 132 missions plus KDEI Taipei; the list has one KBRI more.)
    const MISSION_COUNT: usize = 134;

    const PORTAL_API: &str = "https://backpanel.kemlu.go.id/public-content-service/api";

    /// One valid mission, to be broken by the tests below.
    fn mission_toml(id: &str, extra: &str) -> String {
        format!(
            r#"
[[missions]]
id = "{id}"
kind = "KBRI"
city = "Tokyo"
country = "Japan"
country_code = "JP"
time_zone = "Asia/Tokyo"
{extra}
"#
        )
    }

    fn portal_source(portal: &str) -> String {
        format!(
            r#"sources = [{{ id = "portal-berita", kind = "kemlu_portal", role = "official", url = "{PORTAL_API}", portal = "{portal}", section = "berita" }}]"#
        )
    }

    /// The lines of the error the text produces (each prefixed with the origin `test.toml`).
    fn error_lines(text: &str) -> Vec<String> {
        match Registry::from_toml(text, "test.toml") {
            Ok(r) => panic!("expected an error, loaded {} missions", r.missions.len()),
            Err(e) => e.to_string().lines().map(str::to_owned).collect(),
        }
    }

    fn assert_error(text: &str, expected: &str) {
        let lines = error_lines(text);
        assert!(
            lines.iter().any(|l| l == expected),
            "expected the line\n  {expected}\namong\n  {}",
            lines.join("\n  ")
        );
    }

    #[test]
    fn embedded_registry_loads_every_mission_with_its_portal_source() {
        let registry = Registry::load_default().unwrap();
        assert_eq!(registry.missions.len(), MISSION_COUNT);
        for mission in &registry.missions {
            let portals: Vec<&Source> = mission
                .sources
                .iter()
                .filter(|s| s.kind == SourceKind::KemluPortal)
                .collect();
            assert_eq!(portals.len(), 1, "{}", mission.id);
            let portal = portals[0];
            assert_eq!(portal.id, "portal-berita");
            assert_eq!(portal.role, Role::Official);
            assert_eq!(portal.url, PORTAL_API);
            assert_eq!(portal.section.as_deref(), Some("berita"));
            assert_eq!(portal.cadence_minutes, 60);
            // The portal slug is the id, except for the directory's capitalised `Damascus`.
            let slug = portal.portal.as_deref().unwrap();
            assert_eq!(slug.to_lowercase(), mission.id);
            assert!(registry.source(&mission.id, "portal-berita").is_some());
        }
        assert_eq!(registry.hq_sources.len(), 1);
        let hq = registry.source(HQ_OWNER, "portal-berita").unwrap();
        assert_eq!(hq.source.role, Role::Hq);
        assert_eq!(hq.source.portal.as_deref(), Some("pusat"));
        assert_eq!(hq.time_zone, "Asia/Jakarta");
        assert_eq!(registry.global_sources.len(), 4);
        assert_eq!(registry.sources().count(), registry.len_sources());
    }

    /// The figures of the generated registry, printed for the record (`--nocapture`).
    #[test]
    fn embedded_registry_counts_per_kind_role_and_mission() {
        let registry = Registry::load_default().unwrap();
        let mut per_kind_role: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
        for r in registry.sources() {
            *per_kind_role
                .entry((r.source.kind.as_str(), r.source.role.as_str()))
                .or_default() += 1;
        }
        println!("sources per (kind, role): {per_kind_role:?}");
        let news = registry
            .sources()
            .filter(|r| r.source.id.starts_with(media::GOOGLE_NEWS_ID_PREFIX))
            .count();
        let gdelt = registry
            .sources()
            .filter(|r| r.source.id == media::GDELT_SOURCE_ID)
            .count();
        println!(
            "{} sources: {MISSION_COUNT} portals + 1 hq, {news} Google News, {gdelt} GDELT, {} global",
            registry.len_sources(),
            registry.global_sources.len()
        );
        let ptri = registry
            .missions
            .iter()
            .filter(|m| m.kind == MissionKind::Ptri)
            .count();
        assert_eq!(ptri, 3);
        assert_eq!(gdelt, MISSION_COUNT - ptri);
        assert_eq!(
            per_kind_role[&("feed", "media")],
            news + gdelt,
            "every media source is a generated feed"
        );
        assert_eq!(per_kind_role[&("kemlu_portal", "official")], MISSION_COUNT);
        assert_eq!(per_kind_role[&("kemlu_portal", "hq")], 1);
        assert_eq!(per_kind_role[&("usgs", "hazard")], 1);
        assert_eq!(per_kind_role[&("gdacs", "hazard")], 1);
        assert_eq!(per_kind_role[&("bmkg", "hazard")], 2);
        assert!(!per_kind_role.contains_key(&("reliefweb", "hazard")));
        assert_eq!(registry.len_sources(), MISSION_COUNT + 1 + news + gdelt + 4);

        // Per mission: a portal, one Google News search per language, GDELT.
        let count = |id: &str| registry.mission(id).unwrap().sources.len();
        assert_eq!(count("tokyo"), 4); // portal, news-ja, news-en, gdelt
        assert_eq!(count("washington"), 3); // portal, news-en, gdelt
        assert_eq!(count("bern"), 6); // portal, de, fr, it, en, gdelt
        assert_eq!(count("newyork-un"), 1); // PTRI: the portal only
        for mission in &registry.missions {
            for source in &mission.sources {
                let url = url::Url::parse(&source.url).unwrap();
                assert_eq!(url.scheme(), "https", "{}/{}", mission.id, source.id);
                assert!(source.url.is_ascii() && !source.url.contains([' ', '"']));
            }
            if mission.kind != MissionKind::Ptri {
                let gdelt = registry.source(&mission.id, "gdelt").unwrap();
                let fips = media::fips_code(&mission.country_code).unwrap();
                assert!(
                    gdelt
                        .source
                        .url
                        .contains(&format!("sourcecountry%3A{fips}&")),
                    "{}",
                    gdelt.source.url
                );
            }
        }
    }

    #[test]
    fn a_listed_source_replaces_the_generated_one_and_reliefweb_is_configured() {
        let custom = r#"sources = [{ id = "news-ja", kind = "feed", role = "media", url = "https://example.org/ja.xml" }]"#;
        let registry = Registry::from_toml(&mission_toml("tokyo", custom), "t").unwrap();
        let tokyo = registry.mission("tokyo").unwrap();
        let ids: Vec<&str> = tokyo.sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["news-ja", "news-en", "gdelt"]);
        assert_eq!(tokyo.sources[0].url, "https://example.org/ja.xml");

        let mut registry = registry;
        registry.add_reliefweb("pantau");
        registry.add_reliefweb("pantau-2");
        assert_eq!(registry.global_sources.len(), 1);
        let reliefweb = registry.source(GLOBAL_OWNER, "reliefweb").unwrap();
        assert_eq!(reliefweb.source.kind, SourceKind::Reliefweb);
        assert!(reliefweb.source.url.contains("appname=pantau-2&"));
        assert!(registry.validate().is_ok());
    }

    #[test]
    fn a_country_without_media_tables_is_refused() {
        let text = mission_toml("reykjavik", "").replace("\"JP\"", "\"IS\"");
        assert_error(
            &text,
            r#"test.toml: mission "reykjavik" (entry 1): country_code "IS" has no row in registry::media's country table (FIPS code and languages), so no media sources can be generated"#,
        );
    }

    #[test]
    fn embedded_registry_data_decisions() {
        let registry = Registry::load_default().unwrap();
        let get = |id: &str| registry.mission(id).unwrap();
        assert_eq!(get("tokyo").time_zone, "Asia/Tokyo");
        assert_eq!(get("hongkong").country_code, "HK");
        assert_eq!(get("taipei").country_code, "TW");
        assert_eq!(get("taipei").kind, MissionKind::Kdei);
        assert_eq!(get("vatican").country_code, "VA");
        assert_eq!(get("jenewa").country_code, "CH");
        assert_eq!(get("newyork-un").country_code, "US");
        assert_eq!(get("newyork-un").kind, MissionKind::Ptri);
        assert_eq!(get("newyork").kind, MissionKind::Kjri);
        assert_eq!(get("sanaa").country_code, "YE");
        assert_eq!(get("sanaa").time_zone, "Asia/Muscat"); // works from Salalah
        assert_eq!(get("noumea").time_zone, "Pacific/Noumea");
        assert_eq!(get("darwin").time_zone, "Australia/Darwin");
        assert_eq!(get("kuching").time_zone, "Asia/Kuching");
        assert_eq!(
            registry
                .source("damascus", "portal-berita")
                .unwrap()
                .source
                .portal
                .as_deref(),
            Some("Damascus")
        );
        assert_eq!(registry.missions_in_country("US").count(), 7);
        assert_eq!(registry.missions_in_country("my").count(), 6);
        assert_eq!(registry.missions_in_country("XX").count(), 0);
    }

    #[test]
    fn every_reference_row_is_in_the_registry() {
        // The reference sits beside the repository (`<repo>/../shared/reference`); a git
        // worktree is deeper than the main checkout, so look in every ancestor's `shared/`.
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let found = manifest_dir
            .ancestors()
            .skip(1)
            .map(|dir| dir.join("shared/reference/missions.tsv"))
            .find(|path| path.is_file());
        let Some(path) = found else {
            println!("skipped: no shared/reference/missions.tsv beside the repository");
            return;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let registry = Registry::load_default().unwrap();
        let mut rows = 0;
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            let [kind, city, _country, slug] = cols[..] else {
                panic!("malformed reference row {line:?}");
            };
            rows += 1;
            let mission = registry
                .mission(&slug.to_lowercase())
                .unwrap_or_else(|| panic!("{slug} is not in the registry"));
            assert_eq!(mission.display_name(), format!("{kind} {city}"), "{slug}");
            assert_eq!(mission.city, city);
            let portal = mission
                .sources
                .iter()
                .find(|s| s.kind == SourceKind::KemluPortal)
                .and_then(|s| s.portal.as_deref());
            assert_eq!(portal, Some(slug));
        }
        assert_eq!(rows, registry.missions.len());
    }

    #[test]
    fn embedded_registry_round_trips_through_toml_values() {
        let registry = Registry::load_default().unwrap();
        let value = toml::Value::try_from(&registry).unwrap();
        let toml::Value::Table(table) = value else {
            panic!("a registry serializes to a table");
        };
        let back = Registry::from_toml_table(table, "round trip").unwrap();
        assert_eq!(back, registry);
    }

    #[test]
    fn every_field_and_layout_is_accepted_and_round_trips() {
        let text = format!(
            r#"
[[global_sources]]
id = "usgs-significant"
kind = "usgs"
role = "hazard"
url = "https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/significant_week.geojson"
cadence_minutes = 5

[[hq_sources]]
id = "portal-berita"
kind = "kemlu_portal"
role = "hq"
url = "{PORTAL_API}"
portal = "pusat"
section = "berita"

[[missions]]
id = "tokyo"
kind = "KBRI"
city = "Tokyo"
country = "Japan"
country_code = "JP"
time_zone = "Asia/Tokyo"

[[missions.sources]]
id = "nhk-world"
kind = "feed"
role = "media"
url = "http://example.org/rss.xml"
cadence_minutes = 15
language = "en"
time_zone = "UTC"
conditional_get = false
"#
        );
        let registry = Registry::from_toml(&text, "test.toml").unwrap();
        let tokyo = registry.mission("tokyo").unwrap();
        // The listed feed, then the generated news-ja, news-en and gdelt.
        assert_eq!(tokyo.sources.len(), 4);
        let feed = &tokyo.sources[0];
        assert_eq!(feed.language.as_deref(), Some("en"));
        assert!(!feed.conditional_get);
        assert_eq!(
            registry.source("tokyo", "nhk-world").unwrap().time_zone,
            "UTC"
        );
        let usgs = registry.source(GLOBAL_OWNER, "usgs-significant").unwrap();
        assert_eq!(usgs.source.kind, SourceKind::Usgs);
        assert_eq!(usgs.source.cadence_minutes, 5);
        assert_eq!(registry.len_sources(), 6);

        let toml::Value::Table(table) = toml::Value::try_from(&registry).unwrap() else {
            panic!("a registry serializes to a table");
        };
        assert_eq!(Registry::from_toml_table(table, "again").unwrap(), registry);
    }

    #[test]
    fn the_loader_knows_every_field_of_the_model() {
        // Guards the per-field checks against a field added to `Source` or `Mission` later.
        let source = Source {
            id: "x".into(),
            kind: SourceKind::Feed,
            role: Role::Media,
            url: "https://example.org/".into(),
            cadence_minutes: 5,
            portal: Some("p".into()),
            section: Some("s".into()),
            language: Some("en".into()),
            time_zone: Some("UTC".into()),
            conditional_get: false,
            list: crate::model::ListSelectors {
                list_item: Some("li".into()),
                link: Some("a".into()),
                title: Some("h2".into()),
                date: Some("time".into()),
                follow_other_hosts: true,
            },
        };
        let toml::Value::Table(fields) = toml::Value::try_from(&source).unwrap() else {
            panic!("a source serializes to a table");
        };
        for (key, value) in &fields {
            assert_eq!(check_source_field(key, value), Some(Ok(())), "{key}");
        }
        let mission = Mission {
            id: "tokyo".into(),
            kind: MissionKind::Kbri,
            city: "Tokyo".into(),
            country: "Japan".into(),
            country_code: "JP".into(),
            time_zone: "Asia/Tokyo".into(),
            sources: vec![source],
        };
        let value = toml::Value::try_from(vec![mission.clone()]).unwrap();
        let mut problems = Vec::new();
        assert_eq!(read_mission(0, &value[0], &mut problems), Some(mission));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn unknown_zone_names_entry_and_field() {
        let text =
            mission_toml("tokyo", &portal_source("tokyo")).replace("Asia/Tokyo", "Asia/Tokio");
        assert_eq!(
            error_lines(&text),
            vec![
                r#"test.toml: mission "tokyo" (entry 1): time_zone "Asia/Tokio" is not a known IANA zone"#
            ]
        );
    }

    #[test]
    fn duplicate_mission_id_is_refused() {
        let text =
            mission_toml("tokyo", "") + &mission_toml("osaka", "") + &mission_toml("tokyo", "");
        assert_error(
            &text,
            r#"test.toml: mission "tokyo" (entry 3): id "tokyo" is already the id of entry 1"#,
        );
    }

    #[test]
    fn ids_must_fit_s3_keys() {
        assert_error(
            &mission_toml("Tokyo", ""),
            r#"test.toml: mission "Tokyo" (entry 1): id "Tokyo" is not of the form [a-z0-9-]+"#,
        );
        assert_error(
            &mission_toml("san francisco", ""),
            r#"test.toml: mission "san francisco" (entry 1): id "san francisco" is not of the form [a-z0-9-]+"#,
        );
        assert_error(
            &mission_toml("pusat", ""),
            r#"test.toml: mission "pusat" (entry 1): id "pusat" is reserved for sources of no single mission"#,
        );
        let text = mission_toml(
            "tokyo",
            &portal_source("tokyo").replace("portal-berita", "portal_berita"),
        );
        assert_error(
            &text,
            r#"test.toml: mission "tokyo" (entry 1), source 1 "portal_berita": id "portal_berita" is not of the form [a-z0-9-]+"#,
        );
    }

    #[test]
    fn source_ids_are_unique_within_an_owner_only() {
        let two = r#"sources = [
  { id = "news", kind = "feed", role = "media", url = "https://a.example/rss" },
  { id = "news", kind = "feed", role = "media", url = "https://b.example/rss" },
]"#;
        assert_error(
            &mission_toml("tokyo", two),
            r#"test.toml: mission "tokyo" (entry 1), source 2 "news": id "news" is already the id of source 1 of the same owner"#,
        );
        // The same source id under two missions is fine: keys are per owner.
        let text = mission_toml("tokyo", &portal_source("tokyo"))
            + &mission_toml("osaka", &portal_source("osaka"));
        // Each also gets its three generated media sources.
        assert_eq!(Registry::from_toml(&text, "t").unwrap().len_sources(), 8);
    }

    #[test]
    fn unknown_kinds_and_roles_name_entry_and_field() {
        let text = mission_toml("tokyo", "").replace("\"KBRI\"", "\"KBRX\"");
        let lines = error_lines(&text);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(
                r#"test.toml: mission "tokyo" (entry 1): kind "KBRX" is not valid: unknown variant"#
            ),
            "{}",
            lines[0]
        );
        let text = mission_toml(
            "tokyo",
            &portal_source("tokyo").replace("kemlu_portal", "kemlu"),
        );
        let lines = error_lines(&text);
        assert!(
            lines[0].starts_with(r#"test.toml: mission "tokyo" (entry 1), source 1 "portal-berita": kind "kemlu" is not valid"#),
            "{}",
            lines[0]
        );
        let text = "[[hq_sources]]\nid = \"x\"\nkind = \"feed\"\nrole = \"boss\"\nurl = \"https://example.org/\"\n";
        let lines = error_lines(text);
        assert!(
            lines[0].starts_with(r#"test.toml: hq_sources entry 1 "x": role "boss" is not valid"#),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn urls_must_be_absolute_http() {
        let with_url =
            |url: &str| mission_toml("tokyo", &portal_source("tokyo").replace(PORTAL_API, url));
        let entry = r#"test.toml: mission "tokyo" (entry 1), source 1 "portal-berita""#;
        let lines = error_lines(&with_url("/public-content-service/api"));
        assert!(
            lines[0].starts_with(&format!(
                r#"{entry}: url "/public-content-service/api" is not an absolute URL"#
            )),
            "{}",
            lines[0]
        );
        assert_error(
            &with_url("ftp://backpanel.kemlu.go.id/api"),
            &format!(r#"{entry}: url "ftp://backpanel.kemlu.go.id/api" is not an http(s) URL"#),
        );
    }

    #[test]
    fn reliability_registry_urls_that_would_reach_inside_the_network_are_refused() {
        let with_url =
            |url: &str| mission_toml("tokyo", &portal_source("tokyo").replace(PORTAL_API, url));
        let entry = r#"test.toml: mission "tokyo" (entry 1), source 1 "portal-berita""#;
        let cases = [
            ("http://127.0.0.1/api", "is not a public address"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "is not a public address",
            ),
            ("https://10.0.0.1/", "is not a public address"),
            ("http://[::1]/", "is not a public address"),
            ("http://[::ffff:127.0.0.2]/", "is not a public address"),
            ("http://0x7f000001/", "is not a public address"),
            ("http://2130706433/", "is not a public address"),
            ("http://localhost/api", "not on the internet"),
            ("http://metadata.google.internal/", "not on the internet"),
            ("https://printer.local/", "not on the internet"),
            (
                "https://user:secret@backpanel.kemlu.go.id/api",
                "user name or password",
            ),
            ("https://backpanel.kemlu.go.id:8443/api", "port 8443"),
            ("http://backpanel.kemlu.go.id:22/api", "port 22"),
            ("file:///etc/passwd", "not an http(s) URL"),
            ("gopher://backpanel.kemlu.go.id/", "not an http(s) URL"),
        ];
        for (url, reason) in cases {
            let lines = error_lines(&with_url(url));
            assert!(
                lines[0].starts_with(&format!("{entry}: url ")) && lines[0].contains(reason),
                "{url}: {}",
                lines[0]
            );
        }
        // The scheme's own port, written out, is fine.
        assert!(
            Registry::from_toml(&with_url("https://backpanel.kemlu.go.id:443/api"), "t").is_ok()
        );
        println!(
            "RELIABILITY\tscraper\tregistry source URLs with private literals, internal names, credentials, odd ports, other schemes\t{}\tall refused at load, naming the entry",
            cases.len()
        );
    }

    #[test]
    fn country_code_must_be_two_upper_case_letters() {
        for bad in ["jp", "JPN", "J1", ""] {
            let text = mission_toml("tokyo", "").replace("\"JP\"", &format!("{bad:?}"));
            assert_error(
                &text,
                &format!(
                    r#"test.toml: mission "tokyo" (entry 1): country_code {bad:?} is not two upper-case letters (ISO 3166-1 alpha-2)"#
                ),
            );
        }
    }

    #[test]
    fn portal_sources_need_portal_and_section() {
        let entry = r#"test.toml: mission "tokyo" (entry 1), source 1 "portal-berita""#;
        let no_portal = portal_source("tokyo").replace(r#"portal = "tokyo", "#, "");
        assert_error(
            &mission_toml("tokyo", &no_portal),
            &format!("{entry}: portal is missing (a kemlu_portal source needs it)"),
        );
        let no_section = portal_source("tokyo").replace(r#", section = "berita""#, "");
        assert_error(
            &mission_toml("tokyo", &no_section),
            &format!("{entry}: section is missing (a kemlu_portal source needs it)"),
        );
        assert_error(
            &mission_toml("tokyo", &portal_source("to kyo")),
            &format!(r#"{entry}: portal "to kyo" is not a portal slug (letters, digits, `-`)"#),
        );
    }

    #[test]
    fn cadence_and_source_zone_are_checked() {
        let entry = r#"test.toml: mission "tokyo" (entry 1), source 1 "portal-berita""#;
        let zero = portal_source("tokyo").replace(" }]", ", cadence_minutes = 0 }]");
        assert_error(
            &mission_toml("tokyo", &zero),
            &format!("{entry}: cadence_minutes must be at least 1 (minute)"),
        );
        let negative = portal_source("tokyo").replace(" }]", ", cadence_minutes = -5 }]");
        let lines = error_lines(&mission_toml("tokyo", &negative));
        assert!(
            lines[0].starts_with(&format!("{entry}: cadence_minutes -5 is not valid")),
            "{}",
            lines[0]
        );
        let zone = portal_source("tokyo").replace(" }]", r#", time_zone = "Mars/Olympus" }]"#);
        assert_error(
            &mission_toml("tokyo", &zone),
            &format!(r#"{entry}: time_zone "Mars/Olympus" is not a known IANA zone"#),
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let typo = mission_toml("tokyo", "timezone = \"Asia/Tokyo\"");
        assert_error(
            &typo,
            r#"test.toml: mission "tokyo" (entry 1): timezone is not a known field"#,
        );
        let missing = mission_toml("tokyo", "").replace("city = \"Tokyo\"\n", "");
        assert_error(
            &missing,
            r#"test.toml: mission "tokyo" (entry 1): city is missing"#,
        );
        let no_id = mission_toml("tokyo", "").replace("id = \"tokyo\"\n", "");
        assert_error(&no_id, "test.toml: mission entry 1: id is missing");
        let source_typo = portal_source("tokyo")
            .replace("cadence", "x")
            .replace(" }]", ", cadence_minute = 5 }]");
        assert_error(
            &mission_toml("tokyo", &source_typo),
            r#"test.toml: mission "tokyo" (entry 1), source 1 "portal-berita": cadence_minute is not a known field"#,
        );
        assert_error(
            "[[mission]]\nid = \"tokyo\"\n",
            "test.toml: the document: mission is not a known section (missions, hq_sources, global_sources)",
        );
        assert_error(
            "missions = 3\n",
            "test.toml: the document: missions must be an array of tables, not a integer",
        );
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let text = mission_toml("tokyo", "")
            .replace("Asia/Tokyo", "Asia/Tokio")
            .replace("\"JP\"", "\"jp\"")
            + &mission_toml("osaka", "").replace("Asia/Tokyo", "Asia/Osaka");
        let lines = error_lines(&text);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let err = Registry::from_toml(&text, "test.toml").unwrap_err();
        let fields: Vec<&str> = err.problems().iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["country_code", "time_zone", "time_zone"]);
        assert_eq!(err.problems()[2].entry, r#"mission "osaka" (entry 2)"#);
    }

    #[test]
    fn toml_syntax_errors_name_the_origin() {
        let err = Registry::from_toml("[[missions]\nid = ", "broken.toml").unwrap_err();
        assert!(matches!(err, RegistryError::Syntax { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("broken.toml: not valid TOML: "),
            "{err}"
        );
        assert!(err.problems().is_empty());
    }

    #[test]
    fn load_file_reads_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, mission_toml("tokyo", &portal_source("tokyo"))).unwrap();
        assert_eq!(Registry::load_file(&good).unwrap().missions.len(), 1);

        let bad = dir.path().join("bad.toml");
        std::fs::write(
            &bad,
            mission_toml("tokyo", "").replace("Asia/Tokyo", "Asia/Tokio"),
        )
        .unwrap();
        let err = Registry::load_file(&bad).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: mission \"tokyo\"", bad.display())),
            "{err}"
        );

        let absent = dir.path().join("absent.toml");
        let err = Registry::load_file(&absent).unwrap_err();
        assert!(matches!(err, RegistryError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains("absent.toml"), "{err}");
    }

    #[test]
    fn validate_checks_a_registry_built_in_code() {
        let mut registry = Registry::load_default().unwrap();
        assert!(registry.validate().is_ok());
        registry.missions[17].time_zone = "Asia/Tokio".into();
        registry.global_sources.push(Source {
            id: "usgs".into(),
            kind: SourceKind::Usgs,
            role: Role::Hazard,
            url: "not a url".into(),
            cadence_minutes: 5,
            portal: None,
            section: None,
            language: None,
            time_zone: None,
            conditional_get: true,
            list: Default::default(),
        });
        let err = registry.validate().unwrap_err().to_string();
        assert_eq!(
            err.lines().collect::<Vec<_>>(),
            vec![
                r#"registry: mission "tokyo" (entry 18): time_zone "Asia/Tokio" is not a known IANA zone"#,
                r#"registry: global_sources entry 5 "usgs": url "not a url" is not an absolute URL (relative URL without a base)"#,
            ]
        );
    }
}
