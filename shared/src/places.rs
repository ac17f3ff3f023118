//! Places: the countries an item is about, and the missions accredited there.
//!
//! Three kinds of evidence, each kept with the item so a link can be explained:
//! - the host country of the mission whose source published it (from the registry);
//! - country names, demonyms and major cities in the title or body ([`COUNTRIES`]: Indonesian
//!   and English names for every country with a mission, major cities and regions missions
//!   report on for the thirty-odd busiest);
//! - a country code a hazard feed gives (coordinates → country needs boundaries, a later issue).
//!
//! Indonesia itself is not matched in text: every item mentions it. A few phrases are matched
//! only to be ignored (`bahasa inggris` is the English language, `samudra hindia` an ocean,
//! `amerika latin` a region), so they cannot be read as a country.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::lexicon::{self, Field, Lexicon};
use crate::model::{Mission, NormalizedItem};
use crate::registry::{GLOBAL_OWNER, HQ_OWNER, Registry};

/// One country's names, folded words; names hold both languages. A `*` on a demonym stands
/// for its plural (`malaysian*`: `malaysian`, `malaysians`).
#[derive(Debug, Clone, Copy)]
pub struct CountryNames {
    /// ISO 3166-1 alpha-2, upper case; empty for phrases that name no country.
    pub code: &'static str,
    pub names: &'static [&'static str],
    pub demonyms: &'static [&'static str],
    /// Major cities and regions.
    pub cities: &'static [&'static str],
}

const fn c(
    code: &'static str,
    names: &'static [&'static str],
    demonyms: &'static [&'static str],
    cities: &'static [&'static str],
) -> CountryNames {
    CountryNames {
        code,
        names,
        demonyms,
        cities,
    }
}

/// Every country with an Indonesian mission except Indonesia (see the module note).
#[rustfmt::skip]
pub const COUNTRIES: &[CountryNames] = &[
    // Southeast Asia and the Pacific.
    c("MY", &["malaysia", "semenanjung malaysia"], &["malaysian*"], &["kuala lumpur", "johor bahru", "johor", "penang", "pulau pinang", "kota kinabalu", "kuching", "tawau", "sabah", "sarawak", "kelantan", "terengganu", "selangor", "kota bharu", "putrajaya", "pahang", "kedah", "melaka", "malacca", "ipoh", "shah alam", "kota tinggi", "batu pahat", "pasir gudang", "pasir mas", "tumpat", "negeri sembilan", "seremban", "sandakan", "lahad datu", "miri", "bintulu"]),
    c("SG", &["singapura", "singapore"], &["singaporean*"], &["orchard road", "changi", "jurong", "woodlands"]),
    c("BN", &["brunei", "brunei darussalam"], &["bruneian*"], &["bandar seri begawan"]),
    c("TH", &["thailand", "muangthai"], &["thai"], &["bangkok", "phuket", "songkhla", "chiang mai", "pattani", "hat yai", "pattaya", "narathiwat"]),
    c("VN", &["vietnam", "viet nam"], &["vietnamese"], &["hanoi", "ha noi", "ho chi minh", "ho chi minh city", "saigon", "da nang", "hai phong"]),
    c("PH", &["filipina", "philippines", "philipina"], &["filipino*", "philippine"], &["manila", "davao", "cebu", "mindanao", "zamboanga", "general santos", "luzon", "quezon city"]),
    c("KH", &["kamboja", "cambodia"], &["cambodian*"], &["phnom penh", "sihanoukville", "siem reap", "poipet", "bavet"]),
    c("LA", &["laos", "republik demokratik rakyat laos", "lao pdr"], &["laotian*"], &["vientiane", "luang prabang"]),
    c("MM", &["myanmar", "burma"], &["burmese"], &["yangon", "naypyidaw", "nay pyi taw", "mandalay", "myawaddy", "rakhine", "shwe kokko", "karen state"]),
    c("TL", &["timor leste", "east timor", "republik demokratik timor leste"], &["timorese"], &["dili"]),
    c("PG", &["papua nugini", "papua new guinea", "png"], &["papua new guinean*"], &["port moresby", "vanimo", "wewak"]),
    c("FJ", &["fiji"], &["fijian*"], &["suva"]),
    c("AU", &["australia"], &["australian*"], &["canberra", "sydney", "melbourne", "perth", "darwin", "brisbane", "adelaide", "queensland", "new south wales", "western australia", "northern territory"]),
    c("NZ", &["selandia baru", "new zealand", "aotearoa"], &["new zealander*"], &["auckland", "wellington", "christchurch"]),
    c("NC", &["kaledonia baru", "new caledonia", "nouvelle caledonie"], &["new caledonian*"], &["noumea"]),
    // East and South Asia.
    c("JP", &["jepang", "japan", "nippon"], &["japanese"], &["tokyo", "osaka", "kyoto", "nagoya", "kobe", "yokohama", "sapporo", "hokkaido", "okinawa", "fukuoka", "hiroshima", "sendai", "iwate", "miyagi", "fukushima", "ibaraki", "kansai", "okayama", "kamaishi", "miyako", "noto", "ishikawa", "kumamoto", "chiba", "saitama", "shizuoka", "aichi", "kanagawa", "hyogo", "yoyogi", "haneda", "narita", "tohoku", "kyushu", "shikoku", "niigata", "oita", "ehime"]),
    c("KR", &["korea selatan", "korsel", "south korea", "republic of korea", "korea"], &["korean*", "south korean*"], &["seoul", "busan", "incheon", "ansan", "gimhae", "daegu", "jeju", "gwangju", "ulsan", "changwon", "gyeonggi", "suwon", "pohang", "tongyeong"]),
    c("KP", &["korea utara", "korut", "north korea", "dprk", "republik rakyat demokratik korea"], &["north korean*"], &["pyongyang"]),
    c("CN", &["tiongkok", "china", "rrt", "republik rakyat tiongkok", "people s republic of china", "prc"], &["chinese"], &["beijing", "shanghai", "guangzhou", "shenzhen", "wuhan", "chengdu", "sichuan", "xiamen", "fujian", "yunnan", "guangdong", "xinjiang", "tibet", "hangzhou", "chongqing", "tianjin", "nanning", "guangxi", "kunming", "harbin", "hainan", "qingdao"]),
    c("HK", &["hong kong", "hongkong"], &["hongkonger*"], &["kowloon", "causeway bay", "tsim sha tsui", "sham shui po", "tuen mun", "wan chai", "sha tin", "new territories", "lantau", "victoria park"]),
    c("TW", &["taiwan"], &["taiwanese"], &["taipei", "taichung", "kaohsiung", "tainan", "taoyuan", "hsinchu", "keelung", "pingtung"]),
    c("IN", &["india"], &["indian*"], &["new delhi", "delhi", "mumbai", "chennai", "kolkata", "bangalore", "bengaluru", "hyderabad", "kerala", "manipur"]),
    c("PK", &["pakistan"], &["pakistani*"], &["islamabad", "karachi", "lahore", "peshawar", "balochistan"]),
    c("BD", &["bangladesh"], &["bangladeshi*"], &["dhaka", "chittagong", "cox s bazar"]),
    c("LK", &["sri lanka"], &["sri lankan*"], &["colombo"]),
    c("AF", &["afganistan", "afghanistan"], &["afghan*"], &["kabul", "kandahar", "herat"]),
    // Central Asia and the Caucasus.
    c("KZ", &["kazakhstan", "kazakstan"], &["kazakh*"], &["astana", "almaty"]),
    c("UZ", &["uzbekistan"], &["uzbek*"], &["tashkent", "samarkand", "bukhara"]),
    c("AZ", &["azerbaijan", "azerbaijan republic"], &["azerbaijani*", "azeri*"], &["baku"]),
    // Middle East and North Africa.
    c("SA", &["arab saudi", "saudi arabia", "saudi", "kerajaan arab saudi"], &["saudis"], &["riyadh", "jeddah", "jedah", "makkah", "mekah", "mecca", "madinah", "medina", "dammam", "al khobar", "khobar", "taif", "thaif", "abha", "tabuk", "arafah", "jizan", "qassim"]),
    c("AE", &["uni emirat arab", "persatuan emirat arab", "uae", "united arab emirates", "emirates"], &["emirati*"], &["dubai", "abu dhabi", "sharjah", "ajman"]),
    c("QA", &["qatar", "katar"], &["qatari*"], &["doha"]),
    c("KW", &["kuwait"], &["kuwaiti*"], &["kuwait city"]),
    c("BH", &["bahrain", "bahrein"], &["bahraini*"], &["manama"]),
    c("OM", &["oman", "kesultanan oman"], &["omani*"], &["muscat", "salalah"]),
    c("YE", &["yaman", "yemen"], &["yemeni*"], &["sanaa", "sana a", "aden", "hadramaut", "hadhramaut", "tarim", "mukalla", "hodeidah"]),
    c("JO", &["yordania", "jordan", "kerajaan hasyimiyah yordania"], &["jordanian*"], &["amman", "aqaba", "zarqa"]),
    c("LB", &["lebanon", "libanon"], &["lebanese"], &["beirut", "sidon"]),
    c("SY", &["suriah", "syria", "siria"], &["syrian*"], &["damaskus", "damascus", "aleppo", "idlib", "homs"]),
    c("IQ", &["irak", "iraq"], &["iraqi*"], &["baghdad", "bagdad", "erbil", "basra", "mosul", "najaf", "karbala"]),
    c("IR", &["iran"], &["iranian*"], &["tehran", "teheran", "mashhad", "isfahan", "qom", "shiraz"]),
    c("TR", &["turki", "turkiye", "turkey", "republik turki"], &["turkish"], &["ankara", "istanbul", "izmir", "antalya", "gaziantep", "kahramanmaras", "hatay", "adana", "bursa", "konya", "malatya", "diyarbakir"]),
    c("EG", &["mesir", "egypt"], &["egyptian*"], &["kairo", "cairo", "alexandria", "aleksandria", "iskandariyah", "sinai", "sinai utara", "north sinai", "giza", "luxor", "aswan", "tanta", "zagazig", "al azhar"]),
    c("SD", &["sudan"], &["sudanese"], &["khartoum", "port sudan", "darfur", "omdurman"]),
    c("LY", &["libya", "libia"], &["libyan*"], &["tripoli", "benghazi", "derna"]),
    c("TN", &["tunisia"], &["tunisian*"], &["tunis", "sfax"]),
    c("DZ", &["aljazair", "algeria"], &["algerian*"], &["algiers", "aljir"]),
    c("MA", &["maroko", "morocco"], &["moroccan*"], &["rabat", "casablanca", "marrakech", "marrakesh", "fez", "tangier"]),
    // Sub-Saharan Africa.
    c("ET", &["etiopia", "ethiopia"], &["ethiopian*"], &["addis ababa", "addis abeba", "tigray"]),
    c("KE", &["kenya"], &["kenyan*"], &["nairobi", "mombasa"]),
    c("TZ", &["tanzania"], &["tanzanian*"], &["dar es salaam", "dodoma", "zanzibar"]),
    c("MZ", &["mozambik", "mozambique"], &["mozambican*"], &["maputo", "cabo delgado"]),
    c("MG", &["madagaskar", "madagascar"], &["malagasy"], &["antananarivo"]),
    c("ZA", &["afrika selatan", "south africa", "afsel"], &["south african*"], &["pretoria", "cape town", "johannesburg", "durban"]),
    c("NA", &["namibia"], &["namibian*"], &["windhoek"]),
    c("ZW", &["zimbabwe"], &["zimbabwean*"], &["harare"]),
    c("NG", &["nigeria"], &["nigerian*"], &["abuja", "lagos"]),
    c("SN", &["senegal"], &["senegalese"], &["dakar"]),
    c("CM", &["kamerun", "cameroon"], &["cameroonian*"], &["yaounde", "douala"]),
    // Europe.
    c("GB", &["inggris", "britania raya", "united kingdom", "uk", "britain", "great britain", "kerajaan inggris"], &["british", "briton*"], &["london", "manchester", "edinburgh", "birmingham", "glasgow", "liverpool", "leeds", "bristol", "oxford", "cambridge", "scotland", "skotlandia", "wales", "trafalgar square"]),
    c("NL", &["belanda", "netherlands", "holland", "the netherlands"], &["dutch"], &["den haag", "the hague", "amsterdam", "rotterdam", "utrecht", "leiden"]),
    c("DE", &["jerman", "germany"], &["german", "germans"], &["berlin", "frankfurt", "hamburg", "munich", "munchen", "muenchen", "cologne", "koln", "bavaria"]),
    c("FR", &["prancis", "perancis", "france"], &["french"], &["paris", "marseille", "lyon", "strasbourg"]),
    c("IT", &["italia", "italy"], &["italian*"], &["roma", "rome", "milan", "milano", "napoli", "naples", "venice", "venesia"]),
    c("VA", &["takhta suci", "vatikan", "vatican", "holy see", "tahta suci"], &[], &["vatican city"]),
    c("ES", &["spanyol", "spain"], &["spanish", "spaniard*"], &["madrid", "barcelona", "valencia", "sevilla", "seville"]),
    c("PT", &["portugal"], &["portuguese"], &["lisbon", "lisboa", "porto"]),
    c("CH", &["swiss", "switzerland", "swis"], &[], &["jenewa", "geneva", "geneve", "bern", "zurich", "lausanne", "basel"]),
    c("AT", &["austria"], &["austrian*"], &["wina", "vienna", "wien", "salzburg"]),
    c("BE", &["belgia", "belgium"], &["belgian*"], &["brussel", "brussels", "bruxelles", "antwerp"]),
    c("DK", &["denmark"], &["danish", "dane", "danes"], &["kopenhagen", "copenhagen"]),
    c("NO", &["norwegia", "norway"], &["norwegian*"], &["oslo", "bergen"]),
    c("SE", &["swedia", "sweden"], &["swedish", "swede", "swedes"], &["stockholm", "gothenburg"]),
    c("FI", &["finlandia", "finland"], &["finnish", "finns"], &["helsinki"]),
    c("PL", &["polandia", "poland"], &[], &["warsawa", "warsaw", "krakow"]),
    c("CZ", &["ceko", "republik ceko", "czech republic", "czechia", "ceska"], &["czech", "czechs"], &["praha", "prague", "brno"]),
    c("SK", &["slowakia", "slovakia"], &["slovak", "slovaks", "slovakian*"], &["bratislava"]),
    c("HU", &["hongaria", "hungaria", "hungary"], &["hungarian*"], &["budapest"]),
    c("RO", &["rumania", "romania"], &["romanian*"], &["bukares", "bucharest"]),
    c("BG", &["bulgaria"], &["bulgarian*"], &["plovdiv"]),
    c("GR", &["yunani", "greece"], &["greek", "greeks"], &["athena", "athens", "thessaloniki"]),
    c("HR", &["kroasia", "croatia"], &["croatian*", "croat", "croats"], &["zagreb", "dubrovnik"]),
    c("RS", &["serbia"], &["serbian*", "serb", "serbs"], &["beograd", "belgrade", "novi sad"]),
    c("BA", &["bosnia", "bosnia dan herzegovina", "bosnia and herzegovina", "bosnia herzegovina"], &["bosnian*"], &["sarajevo", "mostar"]),
    c("RU", &["rusia", "russia", "federasi rusia", "russian federation"], &["russian*"], &["moskow", "moskwa", "moscow", "st petersburg", "saint petersburg", "vladivostok", "kazan"]),
    c("UA", &["ukraina", "ukraine"], &["ukrainian*"], &["kyiv", "kiev", "kharkiv", "odesa", "odessa", "lviv", "donetsk", "zaporizhzhia"]),
    // The Americas.
    c("US", &["amerika serikat", "united states", "united states of america", "usa", "u s", "u s a", "amerika"], &["american", "americans"], &["washington", "washington dc", "new york", "los angeles", "san francisco", "chicago", "houston", "california", "texas", "hawaii", "honolulu", "florida", "seattle", "boston"]),
    c("CA", &["kanada", "canada"], &["canadian*"], &["ottawa", "toronto", "vancouver", "montreal", "calgary"]),
    c("MX", &["meksiko", "mexico"], &["mexican*"], &["mexico city", "guadalajara", "monterrey"]),
    c("CU", &["kuba", "cuba"], &["cuban*"], &["havana", "habana"]),
    c("PA", &["panama"], &["panamanian*"], &["panama city", "panama canal", "terusan panama"]),
    c("CO", &["kolombia", "colombia"], &["colombian*"], &["bogota", "medellin"]),
    c("VE", &["venezuela"], &["venezuelan*"], &["caracas"]),
    c("EC", &["ekuador", "ecuador"], &["ecuadorian*"], &["quito", "guayaquil"]),
    c("PE", &["peru"], &["peruvian*"], &["cusco"]),
    c("CL", &["chili", "chile"], &["chilean*"], &["santiago", "valparaiso"]),
    c("AR", &["argentina"], &["argentine", "argentinian*"], &["buenos aires"]),
    c("BR", &["brasil", "brazil"], &["brazilian*"], &["brasilia", "sao paulo", "rio de janeiro"]),
    c("SR", &["suriname"], &["surinamese"], &["paramaribo"]),
    // Phrases that contain a country's name but name no country.
    c("", &["bahasa inggris", "bahasa jepang", "bahasa korea", "bahasa arab", "bahasa mandarin", "bahasa spanyol", "bahasa jerman", "bahasa prancis", "bahasa belanda", "bahasa rusia", "bahasa turki", "samudra hindia", "samudera hindia", "indian ocean", "laut china selatan", "laut tiongkok selatan", "south china sea", "east china sea", "sea of japan", "amerika latin", "amerika selatan", "amerika utara", "latin america", "south america", "north america", "american express", "papua barat", "papua selatan", "papua tengah", "papua pegunungan", "new guinea island", "timor barat", "west timor", "arab spring", "korean wave", "chinese new year", "turkish airlines", "saudia airlines", "emirates airline", "qatar airways", "singapore airlines", "japan airlines", "thai airways", "malaysia airlines", "jalur sutra", "new mexico", "new south", "french fries", "swiss army", "english channel"], &[], &[]),
];

/// What kind of name was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    Country,
    Demonym,
    City,
}

/// Why an item is about a country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PlaceReason {
    /// The item's source belongs to a mission in this country.
    Host { mission: String },
    /// The text names the country, a demonym or a city of it.
    Text {
        term: String,
        matched: String,
        kind: NameKind,
        field: Field,
    },
    /// A hazard feed gave the country.
    Feed,
}

/// A country an item is about, with every reason found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: String,
    pub reasons: Vec<PlaceReason>,
}

impl Place {
    /// Whether the text (not only the source's host) names the country.
    pub fn named_in_text(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| matches!(r, PlaceReason::Text { .. }))
    }
}

fn lexicon() -> &'static Lexicon<(&'static str, NameKind)> {
    static LEXICON: OnceLock<Lexicon<(&'static str, NameKind)>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut lexicon = Lexicon::default();
        for country in COUNTRIES {
            let kinds = [
                (country.names, NameKind::Country),
                (country.demonyms, NameKind::Demonym),
                (country.cities, NameKind::City),
            ];
            for (terms, kind) in kinds {
                for term in terms {
                    // `omani*` means the demonym and its plural, not any word that starts so
                    // (`omanisasi`).
                    match term.strip_suffix('*') {
                        Some(stem) => {
                            lexicon.add(stem, (country.code, kind));
                            lexicon.add(&format!("{stem}s"), (country.code, kind));
                        }
                        None => lexicon.add(term, (country.code, kind)),
                    }
                }
            }
        }
        lexicon
    })
}

/// Collects places by code, in the order first found.
#[derive(Default)]
struct Places {
    order: Vec<String>,
    reasons: BTreeMap<String, Vec<PlaceReason>>,
}

impl Places {
    fn add(&mut self, code: &str, reason: PlaceReason) {
        let code = code.to_ascii_uppercase();
        let reasons = self.reasons.entry(code.clone()).or_insert_with(|| {
            self.order.push(code.clone());
            Vec::new()
        });
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }

    fn into_places(mut self) -> Vec<Place> {
        self.order
            .into_iter()
            .map(|code| Place {
                reasons: self.reasons.remove(&code).unwrap_or_default(),
                country_code: code,
            })
            .collect()
    }
}

/// The countries a title and body name, in the order first found (title first).
pub fn places_in_text(title: &str, body: &str) -> Vec<Place> {
    let mut places = Places::default();
    add_text_places(&mut places, title, body);
    places.into_places()
}

fn add_text_places(places: &mut Places, title: &str, body: &str) {
    for (field, text) in [(Field::Title, title), (Field::Body, body)] {
        for hit in lexicon().find(&lexicon::words(text)) {
            let (code, kind) = *hit.key;
            if code.is_empty() {
                continue;
            }
            places.add(
                code,
                PlaceReason::Text {
                    term: hit.term.to_owned(),
                    matched: hit.matched,
                    kind,
                    field,
                },
            );
        }
    }
}

/// The countries an item is about: its mission's host country first, then the feed's code
/// (hazard items), then the countries its text names.
pub fn places_of(
    item: &NormalizedItem,
    registry: &Registry,
    feed_country: Option<&str>,
) -> Vec<Place> {
    let mut places = Places::default();
    if item.mission != HQ_OWNER
        && item.mission != GLOBAL_OWNER
        && let Some(mission) = registry.mission(&item.mission)
    {
        places.add(
            &mission.country_code,
            PlaceReason::Host {
                mission: mission.id.clone(),
            },
        );
    }
    if let Some(code) = feed_country.map(str::trim).filter(|c| is_country_code(c)) {
        places.add(code, PlaceReason::Feed);
    }
    add_text_places(&mut places, &item.title, &crate::topics::item_body(item));
    places.into_places()
}

/// Two ASCII letters: what a feed's country field must look like to be trusted.
fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())
}

/// The country a single folded word names (`jepang`, `japan`, `japanese`, `malaysians`), when
/// it is a one-word country name or demonym.
pub fn country_of_word(word: &str) -> Option<&'static str> {
    let words = [word.to_owned()];
    let hits = lexicon().find(&words);
    let hit = hits.first()?;
    let (code, kind) = *hit.key;
    (!code.is_empty() && kind != NameKind::City).then_some(code)
}

/// Every mission accredited to any of these countries, in registry order, each once.
pub fn missions_for_countries<'a, S: AsRef<str>>(
    registry: &'a Registry,
    codes: &[S],
) -> Vec<&'a Mission> {
    registry
        .missions
        .iter()
        .filter(|m| {
            codes
                .iter()
                .any(|c| m.country_code.eq_ignore_ascii_case(c.as_ref()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::model::SourceKind;
    use crate::topics::fixture_items;

    fn codes(places: &[Place]) -> Vec<&str> {
        places.iter().map(|p| p.country_code.as_str()).collect()
    }

    #[test]
    fn every_registry_country_but_indonesia_has_names() {
        let registry = Registry::load_default().unwrap();
        let listed: HashSet<&str> = COUNTRIES.iter().map(|c| c.code).collect();
        let mut missing: Vec<&str> = registry
            .missions
            .iter()
            .map(|m| m.country_code.as_str())
            .filter(|code| *code != "ID" && !listed.contains(code))
            .collect();
        missing.dedup();
        assert!(missing.is_empty(), "no names for {missing:?}");
        let mut seen = HashSet::new();
        let mut terms = 0;
        for country in COUNTRIES.iter().filter(|c| !c.code.is_empty()) {
            assert!(seen.insert(country.code), "{} twice", country.code);
            assert!(!country.names.is_empty(), "{}", country.code);
            terms += country.names.len() + country.demonyms.len() + country.cities.len();
        }
        let with_cities = COUNTRIES.iter().filter(|c| c.cities.len() >= 3).count();
        println!(
            "places: {} countries, {terms} names/demonyms/cities, {with_cities} countries with 3+ cities",
            seen.len()
        );
        assert!(with_cities >= 30);
    }

    #[test]
    fn names_in_both_languages_cities_and_demonyms_are_found() {
        let places = places_in_text(
            "Gempa di Turki, WNI di Jepang aman",
            "Japanese authorities and KBRI Ankara; floods in Kota Bharu.",
        );
        assert_eq!(codes(&places), ["TR", "JP", "MY"]);
        let japan = &places[1];
        assert!(japan.reasons.contains(&PlaceReason::Text {
            term: "jepang".into(),
            matched: "jepang".into(),
            kind: NameKind::Country,
            field: Field::Title,
        }));
        assert!(japan.reasons.iter().any(|r| matches!(
            r,
            PlaceReason::Text {
                kind: NameKind::Demonym,
                field: Field::Body,
                ..
            }
        )));
    }

    #[test]
    fn longer_names_win_and_ignored_phrases_name_nothing() {
        assert_eq!(codes(&places_in_text("Situasi di Korea Utara", "")), ["KP"]);
        assert_eq!(codes(&places_in_text("Kunjungan ke Korea", "")), ["KR"]);
        assert_eq!(
            codes(&places_in_text("Papua Nugini dan Papua Barat", "")),
            ["PG"]
        );
        assert!(places_in_text("Pelatihan Bahasa Inggris", "di Samudra Hindia").is_empty());
        assert!(places_in_text("Indonesia dan WNI", "Kemlu RI di Jakarta").is_empty());
        // Words that merely contain a name are not it.
        assert!(places_in_text("Pakaian omanisasi", "amerikanisasi budaya").is_empty());
    }

    #[test]
    fn an_item_has_its_host_country_then_feed_then_text() {
        let registry = Registry::load_default().unwrap();
        let items = fixture_items(SourceKind::KemluPortal, "tokyo", "portal/tokyo.json");
        let iwate = items
            .iter()
            .find(|i| i.title.starts_with("Update Gempa Iwate"))
            .unwrap();
        let places = places_of(iwate, &registry, None);
        assert_eq!(places[0].country_code, "JP");
        assert_eq!(
            places[0].reasons[0],
            PlaceReason::Host {
                mission: "tokyo".into()
            }
        );
        assert!(places[0].named_in_text(), "{places:?}");

        let mut hazard = iwate.clone();
        hazard.mission = GLOBAL_OWNER.into();
        hazard.title = "M 7.4 - 80 km E of Miyako".into();
        hazard.summary = None;
        hazard.body = None;
        let places = places_of(&hazard, &registry, Some("jp"));
        assert_eq!(codes(&places), ["JP"]);
        assert_eq!(places[0].reasons[0], PlaceReason::Feed);
        assert_eq!(places[0].reasons.len(), 2, "{places:?}");
        // A malformed feed code is ignored rather than stored.
        assert!(
            places_of(&hazard, &registry, Some("Japan"))[0]
                .reasons
                .iter()
                .all(|r| *r != PlaceReason::Feed)
        );
    }

    #[test]
    fn headquarters_posts_about_the_fixtures_crises_name_their_countries() {
        let registry = Registry::load_default().unwrap();
        let items = fixture_items(SourceKind::KemluPortal, "pusat", "portal/pusat.json");
        let expect = [
            (
                "Pernyataan Pers Menlu RI tentang Penanganan WNI Terdampak Banjir",
                "MY",
            ),
            ("Kemlu Fasilitasi Kepulangan 27 WNI", "JP"),
            ("Kemlu Pantau Kondisi WNI Pascagempa", "JP"),
            ("Ministry Monitors Indonesians after M7.4 Earthquake", "JP"),
            ("Kemlu Imbau WNI Tidak Tergiur Tawaran Kerja Daring", "KH"),
        ];
        for (title, code) in expect {
            let item = items.iter().find(|i| i.title.starts_with(title)).unwrap();
            let places = places_of(item, &registry, None);
            assert!(
                places.iter().any(|p| p.country_code == code),
                "{title}: {:?}",
                codes(&places)
            );
            // Headquarters has no host country.
            assert!(places.iter().all(|p| p.named_in_text()));
        }
    }

    #[test]
    fn kelantan_floods_in_media_are_malaysia() {
        let registry = Registry::load_default().unwrap();
        let mut items = fixture_items(SourceKind::Feed, "kualalumpur", "feeds/thestar.xml");
        for item in &mut items {
            // As if the feed were global: the text alone must say Malaysia.
            item.mission = GLOBAL_OWNER.into();
        }
        let kelantan: Vec<_> = items
            .iter()
            .filter(|i| i.title.contains("Kelantan"))
            .collect();
        assert!(!kelantan.is_empty());
        for item in kelantan {
            assert_eq!(
                codes(&places_of(item, &registry, None))[0],
                "MY",
                "{}",
                item.title
            );
        }
    }

    #[test]
    fn missions_for_countries_lists_every_accredited_mission() {
        let registry = Registry::load_default().unwrap();
        let ids: Vec<&str> = missions_for_countries(&registry, &["sa", "JP"])
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        for id in ["riyadh", "jeddah", "tokyo", "osaka"] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        assert!(ids.iter().all(|id| {
            let cc = &registry.mission(id).unwrap().country_code;
            cc == "SA" || cc == "JP"
        }));
        assert!(missions_for_countries(&registry, &["XX"]).is_empty());
        let none: [&str; 0] = [];
        assert!(missions_for_countries(&registry, &none).is_empty());
    }
}
