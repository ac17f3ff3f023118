use std::collections::{BTreeMap, HashMap};

use super::*;

/// One labeled document of `docs.tsv`.
struct Doc {
    story: String,
    fingerprint: Fingerprint,
}

/// One labeled pair of `pairs.tsv`.
struct Pair {
    a: String,
    b: String,
    same: bool,
    kind: String,
}

fn data_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

fn load_docs() -> HashMap<String, Doc> {
    load_docs_from(include_str!("docs.tsv"))
}

fn load_docs_from(text: &str) -> HashMap<String, Doc> {
    let mut docs = HashMap::new();
    for fields in data_lines(text) {
        assert_eq!(fields.len(), 7, "docs.tsv: {fields:?}");
        let [id, story, source, lang, publication, title, body] = fields[..] else {
            unreachable!()
        };
        // A publication is per source: the same slug on two portals is two posts.
        let publication = (!publication.is_empty()).then(|| format!("{source}/{publication}"));
        let fingerprint = Fingerprint::new(title, body, Some(lang)).with_publication(publication);
        let doc = Doc {
            story: story.to_owned(),
            fingerprint,
        };
        assert!(docs.insert(id.to_owned(), doc).is_none(), "{id} twice");
    }
    docs
}

fn load_pairs(docs: &HashMap<String, Doc>) -> Vec<Pair> {
    load_pairs_from(include_str!("pairs.tsv"), docs)
}

fn load_pairs_from(text: &str, docs: &HashMap<String, Doc>) -> Vec<Pair> {
    data_lines(text)
        .map(|fields| {
            assert_eq!(fields.len(), 4, "pairs.tsv: {fields:?}");
            let pair = Pair {
                a: fields[0].to_owned(),
                b: fields[1].to_owned(),
                same: match fields[2] {
                    "same" => true,
                    "different" => false,
                    other => panic!("pairs.tsv: label {other}"),
                },
                kind: fields[3].to_owned(),
            };
            // The label must agree with the documents' stories: the set cannot drift.
            let (a, b) = (&docs[&pair.a], &docs[&pair.b]);
            assert_eq!(pair.same, a.story == b.story, "{} {}", pair.a, pair.b);
            pair
        })
        .collect()
}

#[derive(Default, Debug)]
struct Counts {
    true_positive: usize,
    false_positive: usize,
    false_negative: usize,
    true_negative: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        self.true_positive as f64 / (self.true_positive + self.false_positive).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.true_positive as f64 / (self.true_positive + self.false_negative).max(1) as f64
    }
}

/// Precision and recall of [`same_story`] over the labeled pairs, printed per kind. The floors:
/// precision 0.95 because a wrong link merges two stories an analyst must then pull apart (and
/// can attach a mission's routine post to a crisis); recall 0.8 over a set where a third of the
/// same-story pairs cross languages with no shared publication, the hardest case.
#[test]
fn labeled_pairs_precision_and_recall() {
    let docs = load_docs();
    let pairs = load_pairs(&docs);
    let same = pairs.iter().filter(|p| p.same).count();
    assert!(pairs.len() >= 200, "{} pairs", pairs.len());
    assert!(same >= 80 && pairs.len() - same >= 80);
    let all = evaluate("stories (development set)", &docs, &pairs);
    assert!(all.precision() >= 0.95, "precision {:.3}", all.precision());
    assert!(all.recall() >= 0.80, "recall {:.3}", all.recall());
}

/// The held-out set, written after the rules were tuned and measured once. Its floors were
/// set before that measurement, lower than the development set's: it is small (14 same-story
/// pairs) and unseen.
#[test]
fn held_out_pairs_precision_and_recall() {
    let docs = load_docs_from(include_str!("holdout.tsv"));
    let pairs = load_pairs_from(include_str!("holdout_pairs.tsv"), &docs);
    let all = evaluate("stories (held-out set)", &docs, &pairs);
    assert!(all.precision() >= 0.90, "precision {:.3}", all.precision());
    assert!(all.recall() >= 0.70, "recall {:.3}", all.recall());
}

/// Runs [`same_story`] over labeled pairs and prints the confusion per kind, each error with
/// what the rules saw, and the totals.
fn evaluate(name: &str, docs: &HashMap<String, Doc>, pairs: &[Pair]) -> Counts {
    let same = pairs.iter().filter(|p| p.same).count();
    let mut all = Counts::default();
    let mut by_kind: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for pair in pairs {
        let (a, b) = (&docs[&pair.a], &docs[&pair.b]);
        let verdict = same_story(&a.fingerprint, &b.fingerprint);
        assert_eq!(
            verdict.is_some(),
            same_story(&b.fingerprint, &a.fingerprint).is_some(),
            "not symmetric: {} {}",
            pair.a,
            pair.b
        );
        let counts = by_kind.entry(pair.kind.as_str()).or_default();
        match (&verdict, pair.same) {
            (Some(reason), true) => {
                all.true_positive += 1;
                counts.true_positive += 1;
                *by_rule.entry(rule_name(reason)).or_default() += 1;
            }
            (Some(reason), false) => {
                all.false_positive += 1;
                counts.false_positive += 1;
                errors.push(format!(
                    "false link {} {} ({}): {reason:?}",
                    pair.a, pair.b, pair.kind
                ));
            }
            (None, true) => {
                all.false_negative += 1;
                counts.false_negative += 1;
                let (fa, fb) = (&a.fingerprint, &b.fingerprint);
                let keys_a = fa.candidate_keys();
                let shared_key = fb.candidate_keys().iter().any(|k| keys_a.contains(k));
                let shared: Vec<&String> = fa.anchors.intersection(&fb.anchors).collect();
                errors.push(format!(
                    "missed {} {} ({}): key {shared_key}, conflict {}, anchors {}/{}/{} {:?} | only a {:?} | only b {:?}",
                    pair.a,
                    pair.b,
                    pair.kind,
                    fa.conflicts_with(fb),
                    shared.len(),
                    fa.anchors.len(),
                    fb.anchors.len(),
                    shared,
                    fa.anchors.difference(&fb.anchors).collect::<Vec<_>>(),
                    fb.anchors.difference(&fa.anchors).collect::<Vec<_>>(),
                ));
            }
            (None, false) => {
                all.true_negative += 1;
                counts.true_negative += 1;
            }
        }
    }
    println!(
        "{name}: {} pairs ({same} same story, {} different), {} documents",
        pairs.len(),
        pairs.len() - same,
        docs.len()
    );
    for (kind, c) in &by_kind {
        println!(
            "  {kind:<32} tp {:>3} fp {:>3} fn {:>3} tn {:>3}",
            c.true_positive, c.false_positive, c.false_negative, c.true_negative
        );
    }
    println!("  links by rule: {by_rule:?}");
    for error in &errors {
        println!("  {error}");
    }
    println!(
        "{name}: precision {:.3}, recall {:.3}",
        all.precision(),
        all.recall()
    );
    all
}

fn rule_name(reason: &LinkReason) -> &'static str {
    match reason {
        LinkReason::SamePublication { .. } => "same_publication",
        LinkReason::SimilarBody { .. } => "similar_body",
        LinkReason::SameTitle { .. } => "same_title",
        LinkReason::SharedText { .. } => "shared_text",
        LinkReason::SharedAnchors { .. } => "shared_anchors",
    }
}

/// Lookup completeness: every pair [`same_story`] links shares a candidate key, so
/// reconcile's key queries find it.
#[test]
fn every_keyed_link_shares_a_candidate_key() {
    let docs = load_docs();
    let ids: Vec<&String> = docs.keys().collect();
    let mut checked = 0;
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            let (fa, fb) = (&docs[*a].fingerprint, &docs[*b].fingerprint);
            let Some(reason) = same_story(fa, fb) else {
                continue;
            };
            let keys_a = fa.candidate_keys();
            let keys_b = fb.candidate_keys();
            assert!(
                keys_a.iter().any(|k| keys_b.contains(k)),
                "{a} {b} linked by {reason:?} share no key"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn title_key_folds_case_accents_punctuation_order_and_stopwords() {
    assert_eq!(
        title_key("Magnitude 7.4 Earthquake Strikes Off Iwate; Tsunami Warning Issued"),
        title_key("tsunami warning issued — magnitude 7.4 earthquake strikes off Iwate")
    );
    assert_eq!(title_key("Gempa di Türkiye"), "gempa turkiye");
    assert_ne!(
        title_key("KBRI Bangkok imbau WNI hindari lokasi unjuk rasa"),
        title_key("KBRI Manila imbau WNI hindari lokasi unjuk rasa")
    );
}

#[test]
fn simhash_is_stable_close_for_near_copies_and_far_for_other_texts() {
    let docs = load_docs();
    let sig = |id: &str| docs[id].fingerprint.simhash.unwrap();
    // A mission republishing the ministry's text with a different dateline and a closing line.
    assert!(hamming(sig("s01a"), sig("s01d")) <= MAX_BODY_DISTANCE);
    // Different stories, even from one template.
    assert!(hamming(sig("t02a"), sig("t02b")) > MAX_BODY_DISTANCE);
    assert!(hamming(sig("s01a"), sig("s24a")) > 16);
    // Stored signatures must not change between builds: pin one.
    assert_eq!(
        simhash(
            "satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas dua belas tiga belas empat belas lima belas enam belas tujuh belas delapan belas sembilan belas dua puluh"
        ),
        Some(PINNED_SIGNATURE)
    );
    assert_eq!(simhash("too short"), None);
}

/// The signature of the pinned text above; a change here orphans every stored band key.
const PINNED_SIGNATURE: u64 = 5_046_269_182_364_895_540;

#[test]
fn band_keys_are_partition_keys_that_near_signatures_share() {
    let signature = 0x0123_4567_89ab_cdef;
    assert_eq!(
        band_keys(signature),
        [
            "STORY_BAND#0#cdef",
            "STORY_BAND#1#89ab",
            "STORY_BAND#2#4567",
            "STORY_BAND#3#0123"
        ]
    );
    // Any 3 flipped bits leave at least one band equal.
    for (x, y, z) in [(0, 1, 2), (0, 16, 32), (5, 21, 63), (15, 31, 47)] {
        let other = signature ^ (1 << x) ^ (1 << y) ^ (1 << z);
        let (ka, kb) = (band_keys(signature), band_keys(other));
        assert!(ka.iter().zip(&kb).any(|(a, b)| a == b));
    }
}

#[test]
fn anchors_agree_across_languages() {
    let id = anchors(
        "Gempa M7,4 di Iwate, Jepang: 1.240 WNI, hotline +81-80-3506-8612, 19 November 2026.",
    );
    let en = anchors(
        "A magnitude 7.4 quake in Iwate, Japan: 1,240 Indonesians, hotline +81-80-3506-8612, 19 November 2026.",
    );
    for anchor in ["74", "iwate", "1240", "818035068612", "cc:jp"] {
        assert!(
            id.contains(anchor) && en.contains(anchor),
            "{anchor}: {id:?} {en:?}"
        );
    }
    assert!(!id.contains("2026") && !id.contains("november") && !id.contains("wni"));
}

#[test]
fn fixture_portal_posts_link_their_language_versions_and_republications() {
    let tokyo = crate::topics::fixture_items(
        crate::model::SourceKind::KemluPortal,
        "tokyo",
        "portal/tokyo.json",
    );
    let fingerprints: Vec<Fingerprint> = tokyo.iter().map(Fingerprint::of_item).collect();
    // Every Indonesian post with an English version is linked to it, and to nothing else.
    for (i, a) in tokyo.iter().enumerate() {
        for (j, b) in tokyo.iter().enumerate().skip(i + 1) {
            let linked = same_story(&fingerprints[i], &fingerprints[j]).is_some();
            assert_eq!(linked, a.guid == b.guid, "{} / {}", a.title, b.title);
        }
    }
}
