//! A world ten times today's and a year of its items, for the scale run (`make scale`,
//! `tests/tests/scale.rs`).
//!
//! - [`fleet_registry`]: the real registry's missions copied `factor` times (`tokyo`, then
//!   `tokyo-x2`, `tokyo-x3`, ...), each copy with the same country, time zone and sources
//!   (kinds, roles, hosts), so a 10× registry has 1,320 missions on the same host layout.
//! - [`Vocabulary`]: the words of the recorded sources (`shared/offline/`), Indonesian from the
//!   mission portals and English from the media feeds, ranked by frequency; drawn with a Zipf
//!   law so that search meets very common and very rare terms as it does on real news.
//! - [`YearOfItems`]: items spread over the 365 days before `now` with skewed activity (a few
//!   missions publish a lot, most a little), host-country media per mission, hazard events,
//!   and a handful of crises (a red hazard event, a media surge, the missions' advisories).
//!   Deterministic for a seed; items come in random time order, so any prefix of the stream
//!   is a whole year at a lower rate (what the 100k, 1M and 3M checkpoints measure).

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use pantau::crises::timelines::{hazard, media, official};
use pantau::model::{AlertLevel, HazardKind, NormalizedItem, Role, SourceKind};
use pantau::registry::Registry;

/// The real registry with every mission repeated `factor` times (see the module doc).
pub fn fleet_registry(base: &Registry, factor: usize) -> Registry {
    let mut registry = base.clone();
    for copy in 2..=factor {
        for mission in &base.missions {
            let mut m = mission.clone();
            m.id = format!("{}-x{copy}", mission.id);
            for s in &mut m.sources {
                // A portal source names the mission's slug in the portal API.
                if s.portal.as_deref() == Some(mission.id.as_str()) {
                    s.portal = Some(m.id.clone());
                }
            }
            registry.missions.push(m);
        }
    }
    registry
}

/// Words ranked by frequency, drawn by a Zipf law (rank r has weight 1/r).
pub struct Vocabulary {
    pub words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    /// The searchable words of the files under `dir` (tags and JSON punctuation dropped),
    /// most frequent first. Words that are stop words or too short for the index are left
    /// out, so every word drawn is a search term.
    pub fn from_files(dir: &Path) -> Vocabulary {
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut files = Vec::new();
        collect_files(dir, &mut files);
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for word in without_tags(&text)
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| (3..=14).contains(&w.len()))
            {
                let word = word.to_ascii_lowercase();
                if !pantau::search::text_terms(&word).is_empty() && !is_crisis_word(&word) {
                    *counts.entry(word).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Vocabulary::ranked(ranked.into_iter().map(|(w, _)| w).collect())
    }

    pub fn ranked(words: Vec<String>) -> Vocabulary {
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn draw(&self, rng: &mut fastrand::Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.f64() * total;
        let i = self.cumulative.partition_point(|c| *c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    /// `n` words, the first capitalized (a title or a sentence).
    pub fn sentence(&self, rng: &mut fastrand::Rng, n: usize) -> String {
        let mut out = String::new();
        for i in 0..n {
            let w = self.draw(rng);
            if i == 0 {
                let mut chars = w.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(chars.as_str());
                }
            } else {
                out.push(' ');
                out.push_str(w);
            }
        }
        out
    }
}

/// Whether a word alone tags a text with a crisis topic (earthquake, flood, ...). Such words
/// stay out of the vocabularies: crises come from the planted ones, not from random text.
fn is_crisis_word(word: &str) -> bool {
    pantau::topics::tag_text(word, "")
        .iter()
        .any(|t| pantau::topics::is_crisis_tag(&t.id))
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The text outside `<...>` (good enough for word counts of HTML, XML and JSON with HTML).
fn without_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The two vocabularies of the recorded sources under `offline` (`shared/offline`).
pub fn vocabularies(offline: &Path) -> (Vocabulary, Vocabulary) {
    let indonesian = Vocabulary::from_files(&offline.join("portal"));
    let mut english = Vocabulary::from_files(&offline.join("feeds"));
    let news = Vocabulary::from_files(&offline.join("news"));
    // Feeds first, then news words they lack: one English ranking.
    let mut seen: std::collections::HashSet<String> = english.words.iter().cloned().collect();
    let mut words = std::mem::take(&mut english.words);
    words.extend(news.words.into_iter().filter(|w| seen.insert(w.clone())));
    (indonesian, Vocabulary::ranked(words))
}

/// Syllables of the long tail of proper names (people, places, firms) that news mentions once
/// in a while: the rare search terms.
const SYLLABLES: [&str; 24] = [
    "ba", "di", "ko", "ra", "su", "wi", "har", "to", "mu", "ne", "gan", "li", "sar", "yo", "ke",
    "pra", "dja", "tan", "ri", "wo", "lam", "se", "no", "bu",
];

/// How many distinct rare names the year draws from.
pub const RARE_NAMES: usize = 40_000;

/// The `i`-th rare name (three or four syllables, a word the vocabularies do not have).
pub fn rare_name(i: usize) -> String {
    let n = SYLLABLES.len();
    let mut out = String::new();
    let mut x = i;
    for _ in 0..3 {
        out.push_str(SYLLABLES[x % n]);
        x /= n;
    }
    out.push_str(SYLLABLES[(i * 7 + x) % n]);
    out.push('q');
    out
}

/// A crisis planted in the year: where, when, what.
#[derive(Debug, Clone)]
pub struct PlantedCrisis {
    pub country: String,
    pub at: DateTime<Utc>,
    pub event_id: String,
}

/// A stream of a year's items (see the module doc).
pub struct YearOfItems<'a> {
    registry: &'a Registry,
    indonesian: &'a Vocabulary,
    english: &'a Vocabulary,
    rng: fastrand::Rng,
    now: DateTime<Utc>,
    /// Cumulative activity weight per mission (index into `registry.missions`).
    mission_weights: Vec<f64>,
    /// Media sources per mission index.
    media_sources: Vec<Vec<String>>,
    countries: Vec<String>,
    next: usize,
    /// Crisis items still to come, emitted first.
    pending: Vec<NormalizedItem>,
    pub crises: Vec<PlantedCrisis>,
}

/// Shares of the stream (per 1000): the rest is host-country media.
const OFFICIAL_PER_MILLE: usize = 200;
const HAZARD_PER_MILLE: usize = 20;

impl<'a> YearOfItems<'a> {
    pub fn new(
        registry: &'a Registry,
        indonesian: &'a Vocabulary,
        english: &'a Vocabulary,
        seed: u64,
        now: DateTime<Utc>,
        crises: usize,
    ) -> YearOfItems<'a> {
        let mut rng = fastrand::Rng::with_seed(seed);
        // Skewed activity: a random rank per mission, weight 1/(rank+1)^0.8, so the busiest
        // missions publish a few hundred times as much as the quietest.
        let mut ranks: Vec<usize> = (0..registry.missions.len()).collect();
        rng.shuffle(&mut ranks);
        let mut total = 0.0;
        let mission_weights = ranks
            .iter()
            .map(|r| {
                total += 1.0 / ((*r as f64) + 1.0).powf(0.8);
                total
            })
            .collect();
        let media_sources = registry
            .missions
            .iter()
            .map(|m| {
                m.sources
                    .iter()
                    .filter(|s| s.role == Role::Media)
                    .map(|s| s.id.clone())
                    .collect()
            })
            .collect();
        let mut countries: Vec<String> = registry
            .missions
            .iter()
            .map(|m| m.country_code.clone())
            .collect();
        countries.sort();
        countries.dedup();
        let mut year = YearOfItems {
            registry,
            indonesian,
            english,
            rng,
            now,
            mission_weights,
            media_sources,
            countries,
            next: 0,
            pending: Vec::new(),
            crises: Vec::new(),
        };
        year.plant_crises(crises);
        year
    }

    fn pick_mission(&mut self) -> usize {
        let total = self.mission_weights.last().copied().unwrap_or(0.0);
        let x = self.rng.f64() * total;
        self.mission_weights
            .partition_point(|c| *c < x)
            .min(self.registry.missions.len() - 1)
    }

    fn random_time(&mut self) -> DateTime<Utc> {
        self.now - Duration::seconds(self.rng.i64(60..365 * 86_400))
    }

    fn text(&mut self, indonesian: bool, words: usize) -> String {
        let vocabulary = if indonesian {
            self.indonesian
        } else {
            self.english
        };
        let mut body = String::new();
        let mut left = words;
        while left > 0 {
            let n = left.min(self.rng.usize(8..16));
            body.push_str(&vocabulary.sentence(&mut self.rng, n));
            body.push_str(". ");
            left -= n;
        }
        body
    }

    /// [`YearOfItems::text`] and one proper name from the long tail, as most news mentions
    /// someone or somewhere.
    fn text_with_name(&mut self, indonesian: bool, words: usize) -> String {
        let mut body = self.text(indonesian, words);
        let mut name = rare_name(self.rng.usize(..RARE_NAMES));
        name[..1].make_ascii_uppercase();
        body.push_str(&name);
        body.push_str(" menyampaikan. ");
        body
    }

    /// Crises: a red hazard event in a country, media reporting it within hours, and an
    /// advisory from each mission there three hours later. Spread over the last 90 days, so
    /// the crisis board and the response report have both active and closed crises.
    fn plant_crises(&mut self, n: usize) {
        for c in 0..n {
            let country = self.countries[self.rng.usize(..self.countries.len())].clone();
            let at = self.now - Duration::hours(6 + (c as i64) * 90 * 24 / n.max(1) as i64);
            let event_id = format!("scale-quake-{c}");
            let mut quake = hazard(
                SourceKind::Usgs,
                &event_id,
                HazardKind::Earthquake,
                Some(7.1),
                Some(AlertLevel::Red),
                &country,
                &format!("strong earthquake near city {c}"),
                at,
            );
            quake.fetched_at = at + Duration::minutes(10);
            self.pending.push(quake);
            let missions: Vec<usize> = (0..self.registry.missions.len())
                .filter(|i| self.registry.missions[*i].country_code == country)
                .collect();
            for (k, mission) in missions.iter().copied().enumerate() {
                let id = self.registry.missions[mission].id.clone();
                for j in 0..6 {
                    let t = at + Duration::minutes(20 + 30 * j);
                    let body = format!(
                        "A strong earthquake struck, buildings collapsed and casualties are \
                         reported; rescue teams search for survivors. {}",
                        self.text(false, 40)
                    );
                    let source = self.media_sources[mission]
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "news-en".into());
                    self.pending.push(media(
                        &id,
                        &source,
                        &format!("quake-{c}-{k}-{j}"),
                        &format!("Earthquake kills dozens, report {c}-{k}-{j}"),
                        &body,
                        t,
                    ));
                }
                let body = format!(
                    "KBRI mengimbau WNI untuk tetap tenang dan menjauhi bangunan yang rusak \
                     akibat gempa bumi. Hotline perlindungan WNI dibuka. {}",
                    self.text(true, 40)
                );
                self.pending.push(official(
                    &id,
                    &format!("imbauan-gempa-{c}-{k}"),
                    &format!("Imbauan bagi WNI terkait gempa bumi {c}"),
                    &body,
                    at + Duration::hours(3),
                ));
            }
            self.crises.push(PlantedCrisis {
                country,
                at,
                event_id,
            });
        }
        // Emitted in order (pop from the end): reverse.
        self.pending.reverse();
    }

    /// One routine item: an official post, a host-country media report or a hazard event.
    fn routine(&mut self) -> NormalizedItem {
        let n = self.next;
        self.next += 1;
        let t = self.random_time();
        let share = self.rng.usize(..1000);
        if share < HAZARD_PER_MILLE {
            let country = self.countries[self.rng.usize(..self.countries.len())].clone();
            let magnitude = 4.5 + self.rng.f64();
            let mut item = hazard(
                SourceKind::Usgs,
                &format!("scale-ev-{n}"),
                HazardKind::Earthquake,
                Some(magnitude),
                Some(AlertLevel::Green),
                &country,
                &format!(
                    "{} km of {}",
                    self.rng.u32(5..200),
                    self.english.draw(&mut self.rng)
                ),
                t,
            );
            item.fetched_at = t + Duration::minutes(10);
            return item;
        }
        let mission = self.pick_mission();
        let id = self.registry.missions[mission].id.clone();
        let mut item = if share < HAZARD_PER_MILLE + OFFICIAL_PER_MILLE {
            let indonesian = self.rng.usize(..10) < 8;
            let (title_words, body_words) = (self.rng.usize(6..12), self.rng.usize(120..300));
            let title = self.text(indonesian, title_words);
            let body = self.text_with_name(indonesian, body_words);
            let mut item = official(
                &id,
                &format!("p{n}"),
                title.trim_end_matches(". "),
                &body,
                t,
            );
            item.language = Some(if indonesian { "id" } else { "en" }.into());
            item
        } else {
            // News searches and GDELT give a title and a snippet; a fifth of media items come
            // from full-text feeds.
            let indonesian = self.rng.usize(..10) < 3;
            let (title_words, summary_words) = (self.rng.usize(6..14), self.rng.usize(15..30));
            let title = self.text(indonesian, title_words);
            let summary = self.text_with_name(indonesian, summary_words);
            let full_text = self.rng.usize(..5) == 0;
            let body_words = self.rng.usize(60..150);
            let body = if full_text {
                self.text(indonesian, body_words)
            } else {
                String::new()
            };
            let source = match self.media_sources[mission].len() {
                0 => "news-en".to_owned(),
                k => self.media_sources[mission][self.rng.usize(..k)].clone(),
            };
            let mut item = media(
                &id,
                &source,
                &format!("m{n}"),
                title.trim_end_matches(". "),
                &body,
                t,
            );
            item.summary = Some(summary);
            if !full_text {
                item.body = None;
            }
            item.language = Some(if indonesian { "id" } else { "en" }.into());
            item
        };
        item.fetched_at = t + Duration::minutes(self.rng.i64(5..120));
        item
    }
}

impl Iterator for YearOfItems<'_> {
    type Item = NormalizedItem;

    fn next(&mut self) -> Option<NormalizedItem> {
        Some(self.pending.pop().unwrap_or_else(|| self.routine()))
    }
}

/// The API's configuration for latency runs (`scale`, `bench_feed`): the per-key rate limit
/// off, since an optimized build asks faster than the limit allows.
pub fn unlimited_api_config() -> pantau::api::ApiConfig {
    pantau::api::ApiConfig {
        limits: pantau::api::limits::LimitsConfig {
            rate_per_second: 0.0,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/offline")
    }

    #[test]
    fn a_ten_times_registry_keeps_hosts_and_kinds() {
        let base = Registry::load_default().unwrap();
        let big = fleet_registry(&base, 10);
        assert_eq!(big.missions.len(), base.missions.len() * 10);
        assert!(big.validate().is_ok(), "{:?}", big.validate());
        let copy = big.mission("tokyo-x10").unwrap();
        let original = base.mission("tokyo").unwrap();
        assert_eq!(copy.country_code, original.country_code);
        let kinds = |m: &pantau::model::Mission| -> Vec<(SourceKind, String)> {
            m.sources
                .iter()
                .map(|s| {
                    let host = reqwest::Url::parse(&s.url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned));
                    (s.kind, host.unwrap_or_default())
                })
                .collect()
        };
        assert_eq!(kinds(copy), kinds(original));
        let portal = copy.sources.iter().find_map(|s| s.portal.clone());
        assert_eq!(portal.as_deref(), Some("tokyo-x10"));
    }

    #[test]
    fn the_year_is_skewed_dated_and_has_rare_and_common_words() {
        let registry = fleet_registry(&Registry::load_default().unwrap(), 2);
        let (id, en) = vocabularies(&offline_dir());
        assert!(
            id.len() > 500 && en.len() > 500,
            "{} {}",
            id.len(),
            en.len()
        );
        let now = Utc::now();
        let year = YearOfItems::new(&registry, &id, &en, 7, now, 3);
        let items: Vec<_> = year.take(20_000).collect();
        let mut per_mission: HashMap<&str, usize> = HashMap::new();
        for i in &items {
            assert!(i.published_at <= now && i.published_at > now - Duration::days(366));
            *per_mission.entry(i.mission.as_str()).or_default() += 1;
        }
        let mut counts: Vec<usize> = per_mission.values().copied().collect();
        counts.sort_unstable();
        let busiest = counts.last().copied().unwrap_or(0);
        let median = counts[counts.len() / 2];
        assert!(busiest > 10 * median, "busiest {busiest}, median {median}");
        let roles = |r: Role| items.iter().filter(|i| i.role == r).count();
        assert!(roles(Role::Official) > 2000 && roles(Role::Hazard) > 100);
        // The most common word is in most items, a word far down the ranking in few.
        let has = |w: &str| {
            items
                .iter()
                .filter(|i| i.body.as_deref().unwrap_or("").contains(&format!(" {w} ")))
                .count()
        };
        assert!(has(&en.words[0]) > 1000, "{}", en.words[0]);
        let rare = rare_name(17);
        let rare = format!("{}{}", rare[..1].to_ascii_uppercase(), &rare[1..]);
        assert!(has(&rare) < 10, "{rare}: {}", has(&rare));
        assert_eq!(
            pantau::search::text_terms(&rare).len(),
            1,
            "{rare} is a term"
        );
    }
}
