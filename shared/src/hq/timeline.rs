//! A crisis seen from headquarters: the instructions it issued to a country's missions and
//! what the missions published after them, on one timeline.
//!
//! A publication is a response to the latest instruction before it (within
//! [`RESPONSE_DAYS`]) when matching scores the pair at least the threshold; other official
//! publications of the period are on the timeline too, unmarked.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use super::matching::{self, MatchConfig, Profile, Publication};
use super::report::publications;
use super::{RecordKind, country_records};
use crate::reconcile::read::ReadError;
use crate::registry::Registry;
use crate::store::Table;

/// How long after an instruction a publication may answer it.
pub const RESPONSE_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Instruction {
        /// The instruction's day, at 00:00 UTC (records carry a day, not a time).
        at: DateTime<Utc>,
        record_id: String,
        mission: Option<String>,
        title: String,
        reference: Option<String>,
    },
    Publication {
        at: DateTime<Utc>,
        item_id: String,
        mission: String,
        title: String,
        url: Option<String>,
        /// The instruction this answers, with the score and reasons.
        responds_to: Option<String>,
        score: Option<f64>,
        reasons: Vec<String>,
        /// From the instruction's day to the publication.
        since_instruction_seconds: Option<i64>,
    },
}

impl Entry {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Entry::Instruction { at, .. } | Entry::Publication { at, .. } => *at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryTimeline {
    pub country_code: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub instructions: usize,
    pub responses: usize,
    pub timeline: Vec<Entry>,
}

/// The timeline of a country's instructions and its missions' official publications.
pub async fn country_timeline(
    table: &dyn Table,
    registry: &Registry,
    cc: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<CountryTimeline, ReadError> {
    let (records, _) = country_records(table, cc, from, to).await?;
    let instructions: Vec<_> = records
        .into_iter()
        .filter(|r| r.kind == RecordKind::CrisisInstruction)
        .collect();
    let mut pubs: Vec<Publication> = Vec::new();
    let mut noise = std::collections::HashSet::new();
    for mission in registry.missions_in_country(cc) {
        noise.extend(matching::mission_noise(Some(mission)));
        pubs.extend(publications(table, mission, from, to).await?.0);
    }
    let config = MatchConfig::default();
    let profiles: Vec<Profile> = instructions
        .iter()
        .map(|r| Profile::of_text(&r.text(), &noise))
        .collect();
    let day_start = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
    let mut timeline: Vec<Entry> = instructions
        .iter()
        .map(|r| Entry::Instruction {
            at: day_start(r.date),
            record_id: r.id.clone(),
            mission: r.mission.clone(),
            title: r.title.clone(),
            reference: r.reference.clone(),
        })
        .collect();
    let mut responses = 0;
    for p in &pubs {
        // The latest instruction on or before the publication's day, to this mission or to
        // the whole country.
        let answering = instructions
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.date <= p.day
                    && p.day - r.date <= Duration::days(RESPONSE_DAYS)
                    && r.mission.as_ref().is_none_or(|m| *m == p.mission)
            })
            .max_by_key(|(_, r)| r.date);
        let mut entry_score = None;
        let mut reasons = Vec::new();
        let mut responds_to = None;
        let mut since = None;
        if let Some((i, r)) = answering {
            // Scored as the same day: a response follows, it does not coincide.
            let same_day = Publication {
                day: r.date,
                ..p.clone()
            };
            let profile = Profile::of_text(&p.text, &noise);
            if let Some((s, why)) = matching::score(r, &profiles[i], &same_day, &profile, &config)
                && s >= config.threshold
            {
                responses += 1;
                entry_score = Some(s);
                reasons = why.into_iter().skip(1).collect();
                responds_to = Some(r.id.clone());
                since = Some((p.published_at - day_start(r.date)).num_seconds());
            }
        }
        timeline.push(Entry::Publication {
            at: p.published_at,
            item_id: p.item_id.clone(),
            mission: p.mission.clone(),
            title: p.title.clone(),
            url: p.url.clone(),
            responds_to,
            score: entry_score,
            reasons,
            since_instruction_seconds: since,
        });
    }
    timeline.sort_by_key(Entry::at);
    Ok(CountryTimeline {
        country_code: cc.to_owned(),
        from,
        to,
        instructions: instructions.len(),
        responses,
        timeline,
    })
}
