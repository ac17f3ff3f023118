//! Media sources generated for every mission: what outsiders write about Indonesia and
//! Indonesians in the mission's host country, from two services that cover any country, so
//! that no one has to curate hundreds of outlets by hand.
//!
//! - **Google News RSS search**, one feed per language (the host country's main languages plus
//!   English): `https://news.google.com/rss/search?q=<query>&hl=<lang>&gl=<CC>&ceid=<CC>:<lang>`
//!   with a query like `インドネシア OR Indonesia OR WNI OR "KBRI Tokyo"`: the word for
//!   Indonesia in that language, the Indonesian abbreviation for Indonesian citizens, and the
//!   mission's own name.
//! - **GDELT DOC 2.0**, one article list per mission:
//!   `https://api.gdeltproject.org/api/v2/doc/doc?query=(Indonesia OR Indonesian OR Indonesians OR WNI) sourcecountry:<FIPS>&mode=artlist&format=rss&maxrecords=75&timespan=1d`.
//!   GDELT machine-translates what it monitors, so English keywords find articles in any
//!   language; `sourcecountry` takes FIPS 10-4 codes, not ISO (Japan is `JA`, Germany `GM`).
//!   `format=rss` makes it an RSS 2.0 document the `feed` parser already reads.
//!
//! The templates and the two country tables are here and nowhere else. A mission's sources
//! are generated at load ([`media_sources`]); a source the file lists with the same id wins,
//! which is how an operator replaces one generated query, and how a serialized registry
//! loads back unchanged.
//!
//! Permanent missions to organisations (PTRI) get none: their host country's press is
//! watched by the embassy there, and the press about an organisation is not host-country media.

use std::collections::BTreeMap;
use std::time::Duration;

use url::Url;

use crate::model::{Mission, MissionKind, Role, Source, SourceKind};

/// Minutes between fetches of a news-search feed.
pub const NEWS_CADENCE_MINUTES: u32 = 60;
/// The id prefix of a generated Google News source (`news-ja`, `news-en`).
pub const GOOGLE_NEWS_ID_PREFIX: &str = "news-";
/// The id of a mission's generated GDELT source.
pub const GDELT_SOURCE_ID: &str = "gdelt";

pub const GOOGLE_NEWS_SEARCH: &str = "https://news.google.com/rss/search";
pub const GDELT_DOC_API: &str = "https://api.gdeltproject.org/api/v2/doc/doc";

/// Terms GDELT searches for in every country (it searches translations, so English is enough).
/// GDELT asks for at most one request every 5 seconds from a client.
pub const GDELT_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// Google News RSS publishes no limit; ~132 missions × languages share it, so space them.
pub const GOOGLE_NEWS_MIN_INTERVAL: Duration = Duration::from_secs(2);

/// The news-search hosts' own minimum intervals between requests, by host, for the fetcher
/// (`FetchPolicy::host_min_intervals`): politeness across the whole fleet, not per source.
pub fn search_host_intervals() -> BTreeMap<String, Duration> {
    [
        (GDELT_DOC_API, GDELT_MIN_INTERVAL),
        (GOOGLE_NEWS_SEARCH, GOOGLE_NEWS_MIN_INTERVAL),
    ]
    .into_iter()
    .filter_map(|(base, interval)| {
        let host = Url::parse(base).ok()?.host_str()?.to_ascii_lowercase();
        Some((host, interval))
    })
    .collect()
}

const GDELT_TERMS: &str = "(Indonesia OR Indonesian OR Indonesians OR WNI)";

/// One host country: ISO 3166-1 alpha-2 (the registry's code), FIPS 10-4 (GDELT's), and the
/// Google News languages of its main press, first the most read. English is added to every
/// country's list by [`news_languages`].
struct Country {
    iso: &'static str,
    fips: &'static str,
    languages: &'static [&'static str],
}

const fn c(iso: &'static str, fips: &'static str, languages: &'static [&'static str]) -> Country {
    Country {
        iso,
        fips,
        languages,
    }
}

/// Every country the registry has a mission in. Language codes are Google News' `hl`
/// values (`zh-TW`, `pt-BR`, `es-419`); a test checks every registry country is here.
const COUNTRIES: &[Country] = &[
    c("AE", "AE", &["ar"]),
    c("AF", "AF", &["fa"]),
    c("AR", "AR", &["es-419"]),
    c("AT", "AU", &["de"]),
    c("AU", "AS", &["en"]),
    c("AZ", "AJ", &["az"]),
    c("BA", "BK", &["bs"]),
    c("BD", "BG", &["bn"]),
    c("BE", "BE", &["nl", "fr"]),
    c("BG", "BU", &["bg"]),
    c("BH", "BA", &["ar"]),
    c("BN", "BX", &["ms"]),
    c("BR", "BR", &["pt-BR"]),
    c("CA", "CA", &["en", "fr"]),
    c("CH", "SZ", &["de", "fr", "it"]),
    c("CL", "CI", &["es-419"]),
    c("CM", "CM", &["fr"]),
    c("CN", "CH", &["zh-CN"]),
    c("CO", "CO", &["es-419"]),
    c("CU", "CU", &["es-419"]),
    c("CZ", "EZ", &["cs"]),
    c("DE", "GM", &["de"]),
    c("DK", "DA", &["da"]),
    c("DZ", "AG", &["ar", "fr"]),
    c("EC", "EC", &["es-419"]),
    c("EG", "EG", &["ar"]),
    c("ES", "SP", &["es"]),
    c("ET", "ET", &["am"]),
    c("FI", "FI", &["fi"]),
    c("FJ", "FJ", &["en"]),
    c("FR", "FR", &["fr"]),
    c("GB", "UK", &["en"]),
    c("GR", "GR", &["el"]),
    c("HK", "HK", &["zh-HK"]),
    c("HR", "HR", &["hr"]),
    c("HU", "HU", &["hu"]),
    c("ID", "ID", &["id"]),
    c("IN", "IN", &["hi"]),
    c("IQ", "IZ", &["ar"]),
    c("IR", "IR", &["fa"]),
    c("IT", "IT", &["it"]),
    c("JO", "JO", &["ar"]),
    c("JP", "JA", &["ja"]),
    c("KE", "KE", &["sw"]),
    c("KH", "CB", &["km"]),
    c("KP", "KN", &["ko"]),
    c("KR", "KS", &["ko"]),
    c("KW", "KU", &["ar"]),
    c("KZ", "KZ", &["ru", "kk"]),
    c("LA", "LA", &["lo"]),
    c("LB", "LE", &["ar", "fr"]),
    c("LK", "CE", &["si", "ta"]),
    c("LY", "LY", &["ar"]),
    c("MA", "MO", &["ar", "fr"]),
    c("MG", "MA", &["fr"]),
    c("MM", "BM", &["my"]),
    c("MX", "MX", &["es-419"]),
    c("MY", "MY", &["ms"]),
    c("MZ", "MZ", &["pt-PT"]),
    c("NA", "WA", &["en"]),
    c("NC", "NC", &["fr"]),
    c("NG", "NI", &["en"]),
    c("NL", "NL", &["nl"]),
    c("NO", "NO", &["no"]),
    c("NZ", "NZ", &["en"]),
    c("OM", "MU", &["ar"]),
    c("PA", "PM", &["es-419"]),
    c("PE", "PE", &["es-419"]),
    c("PG", "PP", &["en"]),
    c("PH", "RP", &["en", "fil"]),
    c("PK", "PK", &["ur", "en"]),
    c("PL", "PL", &["pl"]),
    c("PT", "PO", &["pt-PT"]),
    c("QA", "QA", &["ar"]),
    c("RO", "RO", &["ro"]),
    c("RS", "RI", &["sr"]),
    c("RU", "RS", &["ru"]),
    c("SA", "SA", &["ar"]),
    c("SD", "SU", &["ar"]),
    c("SE", "SW", &["sv"]),
    c("SG", "SN", &["en"]),
    c("SK", "LO", &["sk"]),
    c("SN", "SG", &["fr"]),
    c("SR", "NS", &["nl"]),
    c("SY", "SY", &["ar"]),
    c("TH", "TH", &["th"]),
    c("TL", "TT", &["pt-PT"]),
    c("TN", "TS", &["ar", "fr"]),
    c("TR", "TU", &["tr"]),
    c("TW", "TW", &["zh-TW"]),
    c("TZ", "TZ", &["sw"]),
    c("UA", "UP", &["uk"]),
    c("US", "US", &["en"]),
    c("UZ", "UZ", &["uz", "ru"]),
    c("VA", "VT", &["it"]),
    c("VE", "VE", &["es-419"]),
    c("VN", "VM", &["vi"]),
    c("YE", "YM", &["ar"]),
    c("ZA", "SF", &["en"]),
    c("ZW", "ZI", &["en"]),
];

/// "Indonesia" in each language the table above uses (by the language part of the code).
const INDONESIA: &[(&str, &str)] = &[
    ("am", "ኢንዶኔዥያ"),
    ("ar", "إندونيسيا"),
    ("az", "İndoneziya"),
    ("bg", "Индонезия"),
    ("bn", "ইন্দোনেশিয়া"),
    ("bs", "Indonezija"),
    ("cs", "Indonésie"),
    ("da", "Indonesien"),
    ("de", "Indonesien"),
    ("el", "Ινδονησία"),
    ("en", "Indonesia"),
    ("es", "Indonesia"),
    ("fa", "اندونزی"),
    ("fi", "Indonesia"),
    ("fil", "Indonesia"),
    ("fr", "Indonésie"),
    ("hi", "इंडोनेशिया"),
    ("hr", "Indonezija"),
    ("hu", "Indonézia"),
    ("id", "Indonesia"),
    ("it", "Indonesia"),
    ("ja", "インドネシア"),
    ("kk", "Индонезия"),
    ("km", "ឥណ្ឌូណេស៊ី"),
    ("ko", "인도네시아"),
    ("lo", "ອິນໂດເນເຊຍ"),
    ("ms", "Indonesia"),
    ("my", "အင်ဒိုနီးရှား"),
    ("nl", "Indonesië"),
    ("no", "Indonesia"),
    ("pl", "Indonezja"),
    ("pt", "Indonésia"),
    ("ro", "Indonezia"),
    ("ru", "Индонезия"),
    ("si", "ඉන්දුනීසියාව"),
    ("sk", "Indonézia"),
    ("sr", "Индонезија"),
    ("sv", "Indonesien"),
    ("sw", "Indonesia"),
    ("ta", "இந்தோனேசியா"),
    ("th", "อินโดนีเซีย"),
    ("tr", "Endonezya"),
    ("uk", "Індонезія"),
    ("ur", "انڈونیشیا"),
    ("uz", "Indoneziya"),
    ("vi", "Indonesia"),
    ("zh", "印尼"),
];

fn country(iso: &str) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.iso.eq_ignore_ascii_case(iso))
}

/// The FIPS 10-4 code GDELT uses for an ISO 3166-1 alpha-2 code, when the table has it.
pub fn fips_code(iso: &str) -> Option<&'static str> {
    country(iso).map(|c| c.fips)
}

/// The Google News languages searched for a country: its main languages, then English.
/// Empty for a country the table does not have.
pub fn news_languages(iso: &str) -> Vec<&'static str> {
    let Some(country) = country(iso) else {
        return Vec::new();
    };
    let mut languages = country.languages.to_vec();
    if !languages.iter().any(|l| base_language(l) == "en") {
        languages.push("en");
    }
    languages
}

/// `zh-TW` → `zh`, `es-419` → `es`.
fn base_language(code: &str) -> &str {
    code.split('-').next().unwrap_or(code)
}

/// "Indonesia" in a language (by its base code); the English word when the table lacks it.
pub fn indonesia_in(language: &str) -> &'static str {
    let base = base_language(language);
    INDONESIA
        .iter()
        .find(|(l, _)| *l == base)
        .map_or("Indonesia", |(_, word)| word)
}

/// Google News' edition id language: scripts for Chinese, the regional variant it publishes
/// Portuguese and Spanish editions under; otherwise the `hl` code itself.
fn edition_language(hl: &str) -> &str {
    match hl {
        "zh-CN" => "zh-Hans",
        "zh-TW" | "zh-HK" => "zh-Hant",
        "pt-BR" => "pt-419",
        "pt-PT" => "pt-150",
        other => other,
    }
}

/// The news-search query for a mission in one language: the word for Indonesia, the English
/// word, `WNI` (Indonesian citizens, as Indonesian writers and mission notices call them) and
/// the mission's name in quotes.
pub fn news_query(mission: &Mission, language: &str) -> String {
    let mut terms = vec![indonesia_in(language).to_owned()];
    if terms[0] != "Indonesia" {
        terms.push("Indonesia".to_owned());
    }
    terms.push("WNI".to_owned());
    terms.push(format!("\"{}\"", mission.display_name()));
    terms.join(" OR ")
}

/// `https://news.google.com/rss/search?q=<query>&hl=<lang>&gl=<CC>&ceid=<CC>:<lang>`, encoded.
pub fn google_news_url(query: &str, language: &str, country_code: &str) -> String {
    let cc = country_code.to_ascii_uppercase();
    let edition = format!("{cc}:{}", edition_language(language));
    with_query(
        GOOGLE_NEWS_SEARCH,
        &[
            ("q", query),
            ("hl", language),
            ("gl", &cc),
            ("ceid", &edition),
        ],
    )
}

/// GDELT DOC 2.0's article list, as RSS, of the last day's articles from one source country.
pub fn gdelt_url(terms: &str, fips: &str) -> String {
    let query = format!("{terms} sourcecountry:{fips}");
    with_query(
        GDELT_DOC_API,
        &[
            ("query", &query),
            ("mode", "artlist"),
            ("format", "rss"),
            ("maxrecords", "75"),
            ("timespan", "1d"),
        ],
    )
}

/// `base` with the pairs form-encoded (spaces as `+`, `"` and `:` percent-encoded).
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        // The bases are constants above; a test parses them.
        Err(_) => base.to_owned(),
    }
}

/// The media sources generated for a mission: one Google News search per language, then
/// GDELT. None for a PTRI or a country the tables do not have (the registry check reports
/// the latter: see [`missing_country_problem`]).
pub fn media_sources(mission: &Mission) -> Vec<Source> {
    if mission.kind == MissionKind::Ptri {
        return Vec::new();
    }
    let Some(fips) = fips_code(&mission.country_code) else {
        return Vec::new();
    };
    let mut sources: Vec<Source> = news_languages(&mission.country_code)
        .into_iter()
        .map(|language| {
            let base = base_language(language);
            media_source(
                format!("{GOOGLE_NEWS_ID_PREFIX}{base}"),
                google_news_url(
                    &news_query(mission, language),
                    language,
                    &mission.country_code,
                ),
                Some(base.to_owned()),
            )
        })
        .collect();
    sources.push(media_source(
        GDELT_SOURCE_ID.to_owned(),
        gdelt_url(GDELT_TERMS, fips),
        None,
    ));
    sources
}

fn media_source(id: String, url: String, language: Option<String>) -> Source {
    Source {
        id,
        kind: SourceKind::Feed,
        role: Role::Media,
        url,
        cadence_minutes: NEWS_CADENCE_MINUTES,
        portal: None,
        section: None,
        language,
        time_zone: None,
        conditional_get: true,
        list: Default::default(),
    }
}

/// Adds the generated media sources to a mission, keeping any source it already has with the
/// same id (the file's word wins). Returns how many were added.
pub fn add_media_sources(mission: &mut Mission) -> usize {
    let generated = media_sources(mission);
    let before = mission.sources.len();
    for source in generated {
        if !mission.sources.iter().any(|s| s.id == source.id) {
            mission.sources.push(source);
        }
    }
    mission.sources.len() - before
}

/// Why a mission gets no generated media although it should (its country is not in the
/// tables here), for the registry's checks.
pub fn missing_country_problem(mission: &Mission) -> Option<String> {
    (mission.kind != MissionKind::Ptri && fips_code(&mission.country_code).is_none()).then(|| {
        format!(
            "{:?} has no row in registry::media's country table (FIPS code and languages), so no media sources can be generated",
            mission.country_code
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_search_hosts_are_spaced_by_their_own_intervals() {
        let intervals = search_host_intervals();
        assert_eq!(
            intervals.get("api.gdeltproject.org"),
            Some(&Duration::from_secs(5))
        );
        assert_eq!(
            intervals.get("news.google.com"),
            Some(&GOOGLE_NEWS_MIN_INTERVAL)
        );
        // The fetcher's production policy carries them.
        assert_eq!(
            crate::fetch::FetchPolicy::default().host_min_intervals,
            intervals
        );
    }

    fn tokyo() -> Mission {
        Mission {
            id: "tokyo".into(),
            kind: MissionKind::Kbri,
            city: "Tokyo".into(),
            country: "Japan".into(),
            country_code: "JP".into(),
            time_zone: "Asia/Tokyo".into(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn tables_are_consistent() {
        let mut isos: Vec<&str> = COUNTRIES.iter().map(|c| c.iso).collect();
        isos.sort_unstable();
        isos.dedup();
        assert_eq!(isos.len(), COUNTRIES.len(), "an ISO code is listed twice");
        let mut fips: Vec<&str> = COUNTRIES.iter().map(|c| c.fips).collect();
        fips.sort_unstable();
        fips.dedup();
        assert_eq!(fips.len(), COUNTRIES.len(), "a FIPS code is listed twice");
        for country in COUNTRIES {
            assert!(!country.languages.is_empty(), "{}", country.iso);
            for language in country.languages {
                let base = base_language(language);
                assert!(
                    INDONESIA.iter().any(|(l, _)| *l == base),
                    "no word for Indonesia in {language} ({})",
                    country.iso
                );
            }
        }
        assert!(Url::parse(GOOGLE_NEWS_SEARCH).is_ok());
        assert!(Url::parse(GDELT_DOC_API).is_ok());
    }

    #[test]
    fn fips_codes_differ_from_iso_where_gdelt_says_so() {
        for (iso, fips) in [
            ("JP", "JA"),
            ("DE", "GM"),
            ("GB", "UK"),
            ("MY", "MY"),
            ("SA", "SA"),
            ("KR", "KS"),
            ("CN", "CH"),
            ("CH", "SZ"),
            ("PH", "RP"),
            ("AU", "AS"),
            ("AT", "AU"),
            ("ZA", "SF"),
            ("VN", "VM"),
            ("VA", "VT"),
            ("TL", "TT"),
        ] {
            assert_eq!(fips_code(iso), Some(fips), "{iso}");
        }
        assert_eq!(fips_code("jp"), Some("JA"));
        assert_eq!(fips_code("XX"), None);
    }

    #[test]
    fn tokyo_gets_japanese_and_english_news_and_gdelt() {
        let sources = media_sources(&tokyo());
        let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["news-ja", "news-en", "gdelt"]);
        for s in &sources {
            assert_eq!(s.kind, SourceKind::Feed);
            assert_eq!(s.role, Role::Media);
            assert_eq!(s.cadence_minutes, 60);
        }
        assert_eq!(sources[0].language.as_deref(), Some("ja"));
        assert_eq!(sources[2].language, None);

        let url = Url::parse(&sources[0].url).unwrap();
        assert_eq!(url.host_str(), Some("news.google.com"));
        assert_eq!(url.path(), "/rss/search");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                (
                    "q".into(),
                    "インドネシア OR Indonesia OR WNI OR \"KBRI Tokyo\"".into()
                ),
                ("hl".into(), "ja".into()),
                ("gl".into(), "JP".into()),
                ("ceid".into(), "JP:ja".into()),
            ]
        );
        // Encoded: no raw space, quote or non-ASCII character in the URL text.
        assert!(sources[0].url.is_ascii(), "{}", sources[0].url);
        assert!(!sources[0].url.contains([' ', '"']), "{}", sources[0].url);
        assert_eq!(
            sources[1].url,
            "https://news.google.com/rss/search?q=Indonesia+OR+WNI+OR+%22KBRI+Tokyo%22&hl=en&gl=JP&ceid=JP%3Aen"
        );
        assert_eq!(
            sources[2].url,
            "https://api.gdeltproject.org/api/v2/doc/doc?query=%28Indonesia+OR+Indonesian+OR+Indonesians+OR+WNI%29+sourcecountry%3AJA&mode=artlist&format=rss&maxrecords=75&timespan=1d"
        );
    }

    #[test]
    fn editions_name_scripts_and_variants() {
        let url = google_news_url("印尼", "zh-TW", "tw");
        let pairs: Vec<(String, String)> = Url::parse(&url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(pairs[2], ("gl".into(), "TW".into()));
        assert_eq!(pairs[3], ("ceid".into(), "TW:zh-Hant".into()));
        assert_eq!(news_languages("US"), ["en"]);
        assert_eq!(news_languages("PK"), ["ur", "en"]);
        assert_eq!(news_languages("CH"), ["de", "fr", "it", "en"]);
        assert!(news_languages("XX").is_empty());
    }

    #[test]
    fn file_sources_win_and_ptri_get_none() {
        let mut mission = tokyo();
        mission.sources.push(media_source(
            "news-ja".into(),
            "https://example.org/custom.xml".into(),
            None,
        ));
        assert_eq!(add_media_sources(&mut mission), 2);
        assert_eq!(mission.sources[0].url, "https://example.org/custom.xml");
        assert_eq!(add_media_sources(&mut mission), 0, "idempotent");

        let mut un = tokyo();
        un.kind = MissionKind::Ptri;
        assert!(media_sources(&un).is_empty());
        assert_eq!(missing_country_problem(&un), None);
        let mut nowhere = tokyo();
        nowhere.country_code = "XX".into();
        assert!(media_sources(&nowhere).is_empty());
        assert!(missing_country_problem(&nowhere).is_some());
    }
}
