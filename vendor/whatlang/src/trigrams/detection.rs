use hashbrown::HashMap;

#[cfg(test)]
use super::LangProfile;
use super::LangProfileList;
use super::utils::{TrigramsWithPositions, get_trigrams_with_positions};
use super::{ARABIC_LANGS, CYRILLIC_LANGS, DEVANAGARI_LANGS, HEBREW_LANGS, LATIN_LANGS};
use super::{MAX_TOTAL_DISTANCE, MAX_TRIGRAM_DISTANCE, Trigram};
use crate::Lang;
use crate::core::{FilterList, Info, InternalQuery, Text, calculate_confidence};
use crate::scripts::grouping::MultiLangScript;

#[derive(Debug)]
pub struct RawOutcome {
    pub trigrams_count: usize,
    #[allow(dead_code)]
    pub raw_distances: Vec<(Lang, u32)>,
    pub scores: Vec<(Lang, f64)>,
}

#[inline]
pub fn detect(iquery: &InternalQuery) -> Option<Info> {
    let raw_outcome = raw_detect(iquery);
    let RawOutcome {
        trigrams_count,
        scores,
        ..
    } = raw_outcome;

    let mut raw_scores_iter = scores.into_iter();

    let opt_lang_score1 = raw_scores_iter.next();
    let opt_lang_score2 = raw_scores_iter.next();

    // TODO: Logic is duplicated in alphabets. Consider refactoring
    opt_lang_score1.map(|(lang1, score1)| {
        let script = iquery.multi_lang_script.to_script();
        let confidence = if let Some((_, score2)) = opt_lang_score2 {
            calculate_confidence(score1, score2, trigrams_count)
        } else {
            1.0
        };
        Info::new(script, lang1, confidence)
    })
}

#[inline]
pub fn raw_detect(iquery: &InternalQuery) -> RawOutcome {
    let lang_profile_list = script_to_lang_profile_list(iquery.multi_lang_script);
    calculate_scores_in_profiles(&iquery.text, iquery.filter_list, lang_profile_list)
}

fn script_to_lang_profile_list(script: MultiLangScript) -> LangProfileList {
    use MultiLangScript as MLS;
    match script {
        MLS::Latin => LATIN_LANGS,
        MLS::Cyrillic => CYRILLIC_LANGS,
        MLS::Arabic => ARABIC_LANGS,
        MLS::Devanagari => DEVANAGARI_LANGS,
        MLS::Hebrew => HEBREW_LANGS,
    }
}

/// Trigram distances of the text to every allowed language of the list, in the list's order.
///
/// Pantau's change (see PANTAU.md): the upstream code looks every trigram of every profile up
/// in the text's trigrams (37 Latin profiles of 300 trigrams: 11,100 hash lookups per call,
/// however short the text). Here each of the text's trigrams is looked up once in an index of
/// all the list's profiles, built on first use, and each language's distance is its maximum
/// less what the matches save. The sums are the same integers, so the outcome is identical:
/// `tests::index_distances_equal_upstream_ones` compares the two on every profile.
#[inline]
fn calculate_scores_in_profiles(
    text: &Text,
    filter_list: &FilterList,
    lang_profile_list: LangProfileList,
) -> RawOutcome {
    let TrigramsWithPositions {
        trigram_positions, ..
    } = get_trigrams_with_positions(&text.lowercase());
    let unique_trigrams_count = trigram_positions.len();

    let index = ProfileIndex::of(lang_profile_list);
    let distances = index.distances(&trigram_positions);
    let mut lang_distances: Vec<(Lang, u32)> = lang_profile_list
        .iter()
        .zip(distances)
        .filter(|((lang, _), _)| filter_list.is_allowed(*lang))
        .map(|((lang, _), dist)| (*lang, dist))
        .collect();

    // Sort languages by distance
    lang_distances.sort_unstable_by_key(|(_, dist)| *dist);

    let max_dist = unique_trigrams_count as u32 * MAX_TRIGRAM_DISTANCE;

    let raw_scores = lang_distances
        .iter()
        .map(|&(lang, distance)| (lang, distance_to_raw_score(distance, max_dist)))
        .collect();

    RawOutcome {
        trigrams_count: unique_trigrams_count,
        scores: raw_scores,
        raw_distances: lang_distances,
    }
}

/// Where each trigram stands in each profile of one list: trigram → (profile's place in the
/// list, trigram's rank in that profile).
struct ProfileIndex {
    profile_lens: Vec<u32>,
    ranks: HashMap<Trigram, Vec<(u16, u16)>>,
}

impl ProfileIndex {
    /// The index of one of the five static lists, built once per process.
    fn of(list: LangProfileList) -> &'static ProfileIndex {
        use std::sync::OnceLock;
        static INDEXES: [OnceLock<ProfileIndex>; 5] = [const { OnceLock::new() }; 5];
        let lists = [
            LATIN_LANGS,
            CYRILLIC_LANGS,
            ARABIC_LANGS,
            DEVANAGARI_LANGS,
            HEBREW_LANGS,
        ];
        let slot = lists
            .iter()
            .position(|l| std::ptr::eq(l.as_ptr(), list.as_ptr()))
            .expect("the profile list is one of the five static ones");
        INDEXES[slot].get_or_init(|| ProfileIndex::new(list))
    }

    fn new(list: LangProfileList) -> ProfileIndex {
        let mut ranks: HashMap<Trigram, Vec<(u16, u16)>> = HashMap::new();
        for (place, (_, profile)) in list.iter().enumerate() {
            for (rank, trigram) in profile.iter().enumerate() {
                ranks
                    .entry(*trigram)
                    .or_default()
                    .push((place as u16, rank as u16));
            }
        }
        ProfileIndex {
            profile_lens: list.iter().map(|(_, p)| p.len() as u32).collect(),
            ranks,
        }
    }

    /// `calculate_distance` for every profile of the list, in its order.
    /// Each profile's distance to the text whose trigrams, with their ranks, are `text_trigrams`
    /// (each trigram once, in any order).
    fn distances(&self, text_trigrams: &[(Trigram, u32)]) -> Vec<u32> {
        // Unmatched, every trigram of a profile is MAX_TRIGRAM_DISTANCE away; a match at text
        // position n and profile rank i is |n - i| away instead (which may be more).
        let mut totals: Vec<i64> = self
            .profile_lens
            .iter()
            .map(|len| i64::from(*len) * i64::from(MAX_TRIGRAM_DISTANCE))
            .collect();
        for &(trigram, n) in text_trigrams {
            let Some(ranks) = self.ranks.get(&trigram) else {
                continue;
            };
            for &(place, rank) in ranks {
                let dist = (i64::from(n) - i64::from(rank)).abs();
                totals[usize::from(place)] += dist - i64::from(MAX_TRIGRAM_DISTANCE);
            }
        }
        let count = text_trigrams.len() as i64;
        let max = i64::from(MAX_TRIGRAM_DISTANCE);
        totals
            .into_iter()
            .map(|total| {
                let total = if max > count {
                    total - (max - count) * max
                } else {
                    total
                };
                total.clamp(0, i64::from(MAX_TOTAL_DISTANCE)) as u32
            })
            .collect()
    }
}

/// Upstream's distance of one profile to the text, kept to check the index against.
#[cfg(test)]
fn calculate_distance(lang_trigrams: LangProfile, text_trigrams: &HashMap<Trigram, u32>) -> u32 {
    let mut total_dist = 0u32;

    for (i, &trigram) in lang_trigrams.iter().enumerate() {
        let dist = match text_trigrams.get(&trigram) {
            Some(&n) => (n as i32 - i as i32).unsigned_abs(),
            None => MAX_TRIGRAM_DISTANCE,
        };
        total_dist += dist;
    }

    let count = text_trigrams.len() as u32;

    if MAX_TRIGRAM_DISTANCE > count {
        let delta = MAX_TRIGRAM_DISTANCE - count;
        total_dist -= delta * MAX_TRIGRAM_DISTANCE;
    }

    total_dist.clamp(0, MAX_TOTAL_DISTANCE)
}

#[inline]
fn distance_to_raw_score(distance: u32, max_distance: u32) -> f64 {
    let similarity = max_distance - distance;
    similarity as f64 / max_distance as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts made of each profile's own trigrams (every language of every list, so ranks past
    /// 300 and every profile match), plus plain sentences and nothing.
    fn sample_texts() -> Vec<String> {
        let mut texts = vec![
            String::new(),
            "a".into(),
            "Some text".into(),
            "Kedutaan Besar Republik Indonesia di Tokyo mengimbau warga".into(),
            "The Embassy of the Republic of Indonesia in London held a forum".into(),
        ];
        for list in [
            LATIN_LANGS,
            CYRILLIC_LANGS,
            ARABIC_LANGS,
            DEVANAGARI_LANGS,
            HEBREW_LANGS,
        ] {
            for (_, profile) in list {
                let whole: String = profile.iter().flat_map(|t| [t.0, t.1, t.2]).collect();
                let head: String = whole.chars().take(40).collect();
                texts.push(whole);
                texts.push(head);
            }
        }
        texts
    }

    #[test]
    fn index_distances_equal_upstream_ones() {
        for list in [
            LATIN_LANGS,
            CYRILLIC_LANGS,
            ARABIC_LANGS,
            DEVANAGARI_LANGS,
            HEBREW_LANGS,
        ] {
            let index = ProfileIndex::of(list);
            for text in sample_texts() {
                let TrigramsWithPositions {
                    trigram_positions, ..
                } = get_trigrams_with_positions(&Text::new(&text).lowercase());
                let as_map: HashMap<Trigram, u32> = trigram_positions.iter().copied().collect();
                let upstream: Vec<u32> = list
                    .iter()
                    .map(|(_, profile)| calculate_distance(profile, &as_map))
                    .collect();
                assert_eq!(index.distances(&trigram_positions), upstream, "{text:?}");
            }
        }
    }

    #[test]
    fn test_when_german_is_given() {
        let text = "Die Ordnung muss für immer in diesem Codebase bleiben";
        let iq = InternalQuery {
            text: Text::new(text),
            filter_list: &FilterList::default(),
            multi_lang_script: MultiLangScript::Latin,
        };
        let raw_outcome = raw_detect(&iq);

        assert_eq!(raw_outcome.trigrams_count, 50);

        let &(first_lang, first_score) = raw_outcome.scores.first().unwrap();
        let &(_last_lang, last_score) = raw_outcome.scores.last().unwrap();

        assert_eq!(first_lang, Lang::Deu);

        assert!(first_score >= 0.0);
        assert!(first_score <= 1.0);

        assert!(last_score >= 0.0);
        assert!(last_score <= 1.0);
    }
}
