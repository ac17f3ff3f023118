//! What reconcile adds to an item before it is stored: its topics, its places and the
//! missions accredited there, and its story fingerprint with the keys to find its story.
//!
//! Pure: the same item and registry always give the same enrichment, so reconcile can compute
//! it on every delivery and compare it with what it stored.

use serde::{Deserialize, Serialize};

use crate::model::NormalizedItem;
use crate::places::{self, Place};
use crate::registry::Registry;
use crate::stories::Fingerprint;
use crate::topics::{self, Topic};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    pub topics: Vec<Topic>,
    /// Whether any topic is a crisis tag (disaster, conflict, accident, epidemic).
    pub crisis: bool,
    pub places: Vec<Place>,
    /// Ids of every mission accredited to one of the places, in registry order.
    pub missions: Vec<String>,
    pub fingerprint: Fingerprint,
    /// The `STORY_…` partitions to index the item under and query for its story.
    pub story_keys: Vec<String>,
}

/// Enriches one item. `feed_country` is the ISO code a hazard feed gave, if any.
pub fn enrich(
    item: &NormalizedItem,
    registry: &Registry,
    feed_country: Option<&str>,
) -> Enrichment {
    let topics = topics::tag_item(item);
    let places = places::places_of(item, registry, feed_country);
    let codes: Vec<&str> = places.iter().map(|p| p.country_code.as_str()).collect();
    let missions = places::missions_for_countries(registry, &codes)
        .into_iter()
        .map(|m| m.id.clone())
        .collect();
    let fingerprint = Fingerprint::of_item(item);
    Enrichment {
        crisis: topics.iter().any(|t| topics::is_crisis_tag(&t.id)),
        story_keys: fingerprint.candidate_keys(),
        topics,
        places,
        missions,
        fingerprint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;
    use crate::stories::{LinkReason, same_story};

    #[test]
    fn an_earthquake_post_is_a_crisis_item_about_japan_linked_to_both_japanese_missions() {
        let registry = Registry::load_default().unwrap();
        let items = topics::fixture_items(SourceKind::KemluPortal, "tokyo", "portal/tokyo.json");
        let advisory = items
            .iter()
            .find(|i| i.title.starts_with("Imbauan KBRI Tokyo terkait Gempa"))
            .unwrap();
        let (indonesian, english): (Vec<_>, Vec<_>) = items
            .iter()
            .filter(|i| i.guid == advisory.guid)
            .partition(|i| i.language.as_deref() == Some("id"));
        let (id, en) = (
            enrich(indonesian[0], &registry, None),
            enrich(english[0], &registry, None),
        );
        for e in [&id, &en] {
            assert!(e.crisis);
            assert!(e.topics.iter().any(|t| t.id == "disaster.earthquake"));
            assert_eq!(e.places[0].country_code, "JP");
            assert!(e.missions.contains(&"tokyo".to_owned()));
            assert!(e.missions.contains(&"osaka".to_owned()));
            assert!(
                e.story_keys
                    .iter()
                    .any(|k| k.starts_with("STORY_PUB#tokyo/"))
            );
        }
        assert!(matches!(
            same_story(&id.fingerprint, &en.fingerprint),
            Some(LinkReason::SamePublication { .. })
        ));
        // Stored as JSON on the item and read back unchanged.
        let json = serde_json::to_string(&id).unwrap();
        let back: Enrichment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn a_routine_post_is_not_a_crisis() {
        let registry = Registry::load_default().unwrap();
        let items = topics::fixture_items(SourceKind::KemluPortal, "london", "portal/london.json");
        let culture = items
            .iter()
            .find(|i| i.title.starts_with("Pekan Budaya Indonesia"))
            .unwrap();
        let e = enrich(culture, &registry, None);
        assert!(!e.crisis, "{:?}", e.topics);
        assert_eq!(e.missions, ["london"]);
    }
}
