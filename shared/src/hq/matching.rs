//! Each record against the mission's official publications: same mission, a few days apart,
//! saying the same thing in Indonesian or English.
//!
//! A pair is scored from four pieces of evidence, each between 0 and 1:
//!
//! - words (weight 0.45): the share of the record's content words found in the publication,
//!   after stemming (`crate::search::text_terms`) and mapping common English words to their
//!   Indonesian stems (`evacuation` → `evakuasi`), so the two languages meet. Words every
//!   publication of the mission shares (`KBRI`, `WNI`, the city) count for nothing;
//! - topics (0.2): the topic tags both carry (`crate::topics`, whose lexicons are bilingual);
//! - numbers (0.15): a number of 2 or more (not a year) stated by both, or a record figure the
//!   publication states;
//! - date (0.2): 1 on the same day, falling to 0 past the window.
//!
//! Pairs scoring at least [`MatchConfig::threshold`] are candidates; each record and each
//! publication is matched at most once, best pairs first. Every score comes with its reasons.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::figures::{self, StatedFigure};
use super::{HqRecord, RecordKind};
use crate::model::NormalizedItem;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchConfig {
    /// Days between the record's date and the publication's (in the mission's zone).
    pub window_days: i64,
    pub threshold: f64,
}

impl Default for MatchConfig {
    fn default() -> MatchConfig {
        MatchConfig {
            window_days: 3,
            threshold: 0.4,
        }
    }
}

/// A publication as matching sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Publication {
    pub item_id: String,
    pub mission: String,
    pub published_at: DateTime<Utc>,
    /// The day of publication in the mission's zone.
    pub day: NaiveDate,
    pub title: String,
    pub url: Option<String>,
    pub language: Option<String>,
    /// Title, summary and the start of the body.
    #[serde(skip)]
    pub text: String,
}

/// How much of a body matching reads.
const BODY_CHARS: usize = 3000;

impl Publication {
    pub fn from_item(item_id: &str, item: &NormalizedItem, zone: Tz) -> Publication {
        let mut text = item.title.clone();
        for part in [&item.summary, &item.body].into_iter().flatten() {
            text.push('\n');
            text.extend(part.chars().take(BODY_CHARS));
        }
        Publication {
            item_id: item_id.to_owned(),
            mission: item.mission.clone(),
            published_at: item.published_at,
            day: item.published_at.with_timezone(&zone).date_naive(),
            title: item.title.clone(),
            url: item.url.clone(),
            language: item.language.clone(),
            text,
        }
    }
}

/// A record paired with a publication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub record_id: String,
    pub item_id: String,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// The outcome for one set of records and publications.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Matching {
    pub matches: Vec<Match>,
    /// Records nothing published answers: done internally, never published.
    pub unmatched_records: Vec<String>,
    /// Publications no record answers: published, never recorded.
    pub unmatched_publications: Vec<String>,
}

/// English words and their Indonesian stems, so a record in one language meets a
/// publication in the other. Keys and values as `text_terms` makes them.
const BRIDGE: &[(&str, &str)] = &[
    ("evacuation", "evakuasi"),
    ("evacuate", "evakuasi"),
    ("evacuat", "evakuasi"),
    ("repatriation", "repatriasi"),
    ("repatriate", "repatriasi"),
    ("repatriat", "repatriasi"),
    ("passport", "paspor"),
    ("citizen", "wni"),
    ("national", "wni"),
    ("detention", "tahan"),
    ("detain", "tahan"),
    ("arrest", "tangkap"),
    ("prison", "penjara"),
    ("visit", "kunjung"),
    ("meeting", "temu"),
    ("meet", "temu"),
    ("student", "mahasiswa"),
    ("worker", "pekerja"),
    ("migrant", "migran"),
    ("flood", "banjir"),
    ("earthquake", "gempa"),
    ("fire", "bakar"),
    ("victim", "korban"),
    ("death", "tinggal"),
    ("died", "tinggal"),
    ("hospital", "rumah"),
    ("shelter", "tampung"),
    ("assistance", "bantu"),
    ("assist", "bantu"),
    ("help", "bantu"),
    ("aid", "bantu"),
    ("ship", "kapal"),
    ("crew", "abk"),
    ("fisherman", "nelayan"),
    ("fishermen", "nelayan"),
    ("election", "pemilu"),
    ("vote", "pilih"),
    ("voter", "pilih"),
    ("trade", "dagang"),
    ("investment", "investasi"),
    ("culture", "budaya"),
    ("cultural", "budaya"),
    ("festival", "festival"),
    ("exhibition", "pamer"),
    ("education", "didik"),
    ("scholarship", "beasiswa"),
    ("consular", "konsuler"),
    ("service", "layan"),
    ("outreach", "layan"),
    ("independence", "merdeka"),
    ("ceremony", "upacara"),
    ("flag", "bendera"),
    ("hotline", "hotline"),
    ("alert", "imbau"),
    ("advisory", "imbau"),
    ("appeal", "imbau"),
    ("release", "bebas"),
    ("released", "bebas"),
    ("court", "adil"),
    ("trial", "sidang"),
    ("deport", "deportasi"),
    ("deportation", "deportasi"),
    ("trafficking", "dagang"),
    ("kidnapping", "culik"),
    ("hostage", "sandera"),
    ("ambassador", "duta"),
    ("minister", "menteri"),
    ("president", "presiden"),
    ("cooperation", "sama"),
    ("agreement", "sepakat"),
    ("war", "perang"),
    ("conflict", "konflik"),
    ("storm", "badai"),
    ("typhoon", "topan"),
    ("volcano", "gunung"),
    ("tsunami", "tsunami"),
];

/// Words too common in a mission's publications to tell two of them apart.
const COMMON: &[&str] = &[
    "kbri",
    "kjri",
    "kri",
    "ptri",
    "kdei",
    "indonesia",
    "indonesian",
    "wni",
    "warga",
    "negara",
    "embassy",
    "consulate",
    "mission",
    "perwakilan",
    "republik",
    "republic",
    "kedutaan",
    "besar",
    "konsulat",
    "jenderal",
    "general",
    "pemerintah",
    "government",
    "citizen",
    "national",
    "ri",
];

/// What scoring reads of one side.
#[derive(Debug, Clone)]
pub struct Profile {
    terms: BTreeSet<String>,
    topics: BTreeSet<String>,
    numbers: BTreeSet<u64>,
    figures: Vec<StatedFigure>,
}

impl Profile {
    /// `noise`: words that say nothing for this mission (its city, its country).
    pub fn of_text(text: &str, noise: &HashSet<String>) -> Profile {
        let mut terms = BTreeSet::new();
        for term in crate::search::text_terms(text) {
            let bridged = BRIDGE
                .iter()
                .find(|(en, _)| *en == term)
                .map_or(term.clone(), |(_, id)| (*id).to_owned());
            // `dievakuasi` stems to `evakuasi`; `wni` stays.
            let stem = crate::search::stem::stem(&bridged);
            if COMMON.contains(&stem.as_str()) || noise.contains(&stem) {
                continue;
            }
            terms.insert(stem);
        }
        let (title, body) = text.split_once('\n').unwrap_or((text, ""));
        let topics = crate::topics::tag_text(title, body)
            .into_iter()
            .map(|t| t.id)
            .collect();
        let numbers = crate::lexicon::words(text)
            .iter()
            .filter_map(|w| w.parse::<u64>().ok())
            .filter(|n| *n >= 2 && !(1900..=2100).contains(n))
            .collect();
        Profile {
            terms,
            topics,
            numbers,
            figures: figures::extract(text),
        }
    }
}

/// The noise words of a mission: its city and country, folded and stemmed.
pub fn mission_noise(mission: Option<&crate::model::Mission>) -> HashSet<String> {
    let Some(m) = mission else {
        return HashSet::new();
    };
    [m.city.as_str(), m.country.as_str(), m.id.as_str()]
        .iter()
        .flat_map(|s| crate::search::text_terms(s))
        .map(|t| crate::search::stem::stem(&t))
        .collect()
}

/// Score of one pair within the window, with the reasons; None outside the window.
pub fn score(
    record: &HqRecord,
    record_profile: &Profile,
    publication: &Publication,
    publication_profile: &Profile,
    config: &MatchConfig,
) -> Option<(f64, Vec<String>)> {
    let days = (publication.day - record.date).num_days();
    if days.abs() > config.window_days {
        return None;
    }
    let mut reasons = Vec::new();
    let date = 1.0 - days.abs() as f64 / (config.window_days + 1) as f64;
    reasons.push(match days {
        0 => "published the same day".to_owned(),
        d if d > 0 => format!("published {d} day(s) after the record's date"),
        d => format!("published {} day(s) before the record's date", -d),
    });

    let shared: Vec<&String> = record_profile
        .terms
        .intersection(&publication_profile.terms)
        .collect();
    let words = if record_profile.terms.is_empty() {
        0.0
    } else {
        // A long record need not be quoted whole: 6 shared words are full marks.
        let base = record_profile.terms.len().min(6) as f64;
        (shared.len() as f64 / base).min(1.0)
    };
    if !shared.is_empty() {
        let list: Vec<&str> = shared.iter().take(8).map(|s| s.as_str()).collect();
        reasons.push(format!(
            "{} shared word(s): {}",
            shared.len(),
            list.join(", ")
        ));
    }

    let common_topics: Vec<&String> = record_profile
        .topics
        .intersection(&publication_profile.topics)
        .collect();
    let topics = if common_topics.is_empty() {
        0.0
    } else {
        let union = record_profile
            .topics
            .union(&publication_profile.topics)
            .count();
        (common_topics.len() as f64 / union as f64).max(0.5)
    };
    if !common_topics.is_empty() {
        let list: Vec<&str> = common_topics.iter().map(|s| s.as_str()).collect();
        reasons.push(format!("same topic(s): {}", list.join(", ")));
    }

    let mut numbers = 0.0;
    let recorded: BTreeSet<u64> = record
        .figures
        .values()
        .copied()
        .chain(record_profile.numbers.iter().copied())
        .collect();
    if let Some(n) = recorded
        .iter()
        .find(|n| publication_profile.numbers.contains(n))
    {
        numbers = 1.0;
        reasons.push(format!("both state the number {n}"));
    } else if record
        .figures
        .keys()
        .any(|k| publication_profile.figures.iter().any(|f| f.kind == *k))
    {
        // Same kind of figure, another count: still the same event, most likely.
        numbers = 0.5;
        reasons.push("both count the same kind of people".to_owned());
    }
    if let Some(lang) = &publication.language
        && !matches!(lang.as_str(), "id")
    {
        reasons.push(format!("publication in `{lang}`"));
    }
    // A crisis instruction is answered by what the mission publishes, which rarely repeats
    // its words: topics weigh as much as words.
    let (w_words, w_topics) = if record.kind == RecordKind::CrisisInstruction {
        (0.35, 0.3)
    } else {
        (0.45, 0.2)
    };
    let total = w_words * words + w_topics * topics + 0.15 * numbers + 0.2 * date;
    Some(((total * 1000.0).round() / 1000.0, reasons))
}

/// Matches records with publications one to one, best pairs first.
pub fn match_all(
    records: &[HqRecord],
    publications: &[Publication],
    noise: &HashSet<String>,
    config: &MatchConfig,
) -> Matching {
    let record_profiles: Vec<Profile> = records
        .iter()
        .map(|r| Profile::of_text(&r.text(), noise))
        .collect();
    let publication_profiles: Vec<Profile> = publications
        .iter()
        .map(|p| Profile::of_text(&p.text, noise))
        .collect();
    let mut candidates = Vec::new();
    for (ri, record) in records.iter().enumerate() {
        for (pi, publication) in publications.iter().enumerate() {
            if let Some((s, reasons)) = score(
                record,
                &record_profiles[ri],
                publication,
                &publication_profiles[pi],
                config,
            ) && s >= config.threshold
            {
                candidates.push((s, ri, pi, reasons));
            }
        }
    }
    // Best first; ties by closer date then input order, so the outcome is deterministic.
    candidates.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| {
                let gap = |ri: usize, pi: usize| {
                    (publications[pi].day - records[ri].date).num_days().abs()
                };
                gap(a.1, a.2).cmp(&gap(b.1, b.2))
            })
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let (mut record_taken, mut publication_taken) =
        (vec![false; records.len()], vec![false; publications.len()]);
    let mut matching = Matching::default();
    for (s, ri, pi, reasons) in candidates {
        if record_taken[ri] || publication_taken[pi] {
            continue;
        }
        record_taken[ri] = true;
        publication_taken[pi] = true;
        matching.matches.push(Match {
            record_id: records[ri].id.clone(),
            item_id: publications[pi].item_id.clone(),
            score: s,
            reasons,
        });
    }
    matching.unmatched_records = records
        .iter()
        .zip(&record_taken)
        .filter(|(_, taken)| !**taken)
        .map(|(r, _)| r.id.clone())
        .collect();
    matching.unmatched_publications = publications
        .iter()
        .zip(&publication_taken)
        .filter(|(_, taken)| !**taken)
        .map(|(p, _)| p.item_id.clone())
        .collect();
    matching
}

/// A figure the record and its publication state differently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureDisagreement {
    pub record_id: String,
    pub item_id: String,
    pub kind: super::FigureKind,
    pub recorded: u64,
    pub published: u64,
    /// The publication's words around the figure.
    pub published_text: String,
}

/// For each figure the record holds and the publication states too: a disagreement when no
/// stated count equals the recorded one.
pub fn compare_figures(record: &HqRecord, publication: &Publication) -> Vec<FigureDisagreement> {
    let stated = figures::extract(&publication.text);
    let mut out = Vec::new();
    for (kind, recorded) in &record.figures {
        let same_kind: Vec<&StatedFigure> = stated.iter().filter(|f| f.kind == *kind).collect();
        if same_kind.is_empty() || same_kind.iter().any(|f| f.count == *recorded) {
            continue;
        }
        let first = same_kind[0];
        out.push(FigureDisagreement {
            record_id: record.id.clone(),
            item_id: publication.item_id.clone(),
            kind: *kind,
            recorded: *recorded,
            published: first.count,
            published_text: first.snippet.clone(),
        });
    }
    out
}
