//! Realistic event timelines for the crisis scenarios, as the normalized items the pipeline
//! would produce: hazard events from USGS and GDACS, host-country media, mission posts.
//! Shared by the scenario suite here and the AWS-path test in the `tests` crate.

use chrono::{DateTime, Duration, Utc};

use crate::model::{
    AlertLevel, CountryBasis, HazardCountry, HazardEvent, HazardKind, NormalizedItem, Role,
    SourceKind, TimeBasis,
};

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)] // a test fixture: every field named at the call
fn base(
    mission: &str,
    source: &str,
    kind: SourceKind,
    role: Role,
    guid: &str,
    title: &str,
    body: &str,
    published: DateTime<Utc>,
) -> NormalizedItem {
    NormalizedItem {
        mission: mission.into(),
        source: source.into(),
        kind,
        role,
        guid: Some(guid.into()),
        url: Some(format!("https://example.org/{mission}/{source}/{guid}")),
        title: title.into(),
        summary: None,
        body: Some(body.into()),
        published_at: published,
        published_raw: None,
        time_basis: TimeBasis::Stated,
        language: Some("id".into()),
        authors: vec![],
        categories: vec![],
        images: vec![],
        fetched_at: published + Duration::minutes(10),
        raw_key: format!("raw/{mission}/{source}/{guid}"),
        hazard: None,
    }
}

/// A hazard feed's item: `feed` is `usgs` or `gdacs`, `country` an alpha-2 code.
#[allow(clippy::too_many_arguments)]
pub fn hazard(
    feed: SourceKind,
    event_id: &str,
    kind: HazardKind,
    magnitude: Option<f64>,
    alert: Option<AlertLevel>,
    country: &str,
    place: &str,
    occurred: DateTime<Utc>,
) -> NormalizedItem {
    let source = feed.as_str();
    let title = match magnitude {
        Some(m) => format!("M {m:.1} - {place}"),
        None => format!("{kind:?} alert in {place}"),
    };
    let mut item = base(
        "global",
        source,
        feed,
        Role::Hazard,
        event_id,
        &title,
        "",
        occurred,
    );
    item.body = None;
    item.language = Some("en".into());
    item.hazard = Some(HazardEvent {
        event_id: event_id.into(),
        episode_id: None,
        kind,
        magnitude,
        magnitude_type: magnitude.map(|_| "mww".into()),
        alert,
        severity: None,
        occurred_at: occurred,
        occurred_raw: None,
        updated_at: None,
        ended_at: None,
        latitude: None,
        longitude: None,
        depth_km: Some(10.0),
        place: Some(place.into()),
        countries: vec![HazardCountry {
            code: country.into(),
            basis: CountryBasis::Coordinates,
        }],
        link: None,
        felt_reports: None,
        felt: None,
        tsunami: Some(false),
        mission: "global".into(),
        source: source.into(),
        fetched_at: item.fetched_at,
        raw_key: item.raw_key.clone(),
    });
    item
}

/// A host-country media item of `mission`'s country.
pub fn media(
    mission: &str,
    source: &str,
    guid: &str,
    title: &str,
    body: &str,
    published: DateTime<Utc>,
) -> NormalizedItem {
    let mut item = base(
        mission,
        source,
        SourceKind::Feed,
        Role::Media,
        guid,
        title,
        body,
        published,
    );
    item.language = Some("en".into());
    item
}

/// A mission's own portal post.
pub fn official(
    mission: &str,
    guid: &str,
    title: &str,
    body: &str,
    published: DateTime<Utc>,
) -> NormalizedItem {
    base(
        mission,
        "portal-berita",
        SourceKind::KemluPortal,
        Role::Official,
        guid,
        title,
        body,
        published,
    )
}

/// The 6 February 2023 earthquake in Türkiye: USGS and GDACS, two local media reports, an
/// advisory (imbauan) from KBRI Ankara three hours after the quake, a hotline from KJRI
/// Istanbul four and a half hours after, and a routine KBRI Ankara post that answers nothing.
pub fn turkiye_earthquake() -> Vec<NormalizedItem> {
    let quake = at("2023-02-06T01:17:34Z");
    vec![
        hazard(
            SourceKind::Usgs,
            "us6000jllz",
            HazardKind::Earthquake,
            Some(7.8),
            Some(AlertLevel::Red),
            "TR",
            "Pazarcik earthquake, Kahramanmaras earthquake sequence",
            quake,
        ),
        hazard(
            SourceKind::Gdacs,
            "EQ1357714",
            HazardKind::Earthquake,
            Some(7.8),
            Some(AlertLevel::Red),
            "TR",
            "Turkey",
            quake + Duration::seconds(3),
        ),
        media(
            "ankara",
            "media-dailysabah",
            "ds-1",
            "Powerful earthquake hits southern Türkiye, buildings collapse",
            "A magnitude 7.7 earthquake struck Kahramanmaraş early Monday.",
            quake + Duration::minutes(40),
        ),
        media(
            "istanbul",
            "media-hurriyetdaily",
            "hd-1",
            "Earthquake death toll rises in Hatay and Gaziantep",
            "Rescue teams search collapsed buildings after the earthquake.",
            quake + Duration::hours(2),
        ),
        official(
            "ankara",
            "imbauan-gempa",
            "Imbauan KBRI Ankara terkait Gempa Bumi di Turki Selatan",
            "KBRI Ankara mengimbau WNI di wilayah terdampak gempa untuk menjauhi bangunan rusak.",
            quake + Duration::hours(3),
        ),
        official(
            "istanbul",
            "hotline-gempa",
            "KJRI Istanbul Membuka Hotline bagi WNI Terdampak Gempa",
            "WNI yang membutuhkan bantuan dapat menghubungi nomor darurat +90 212 000 00 00.",
            quake + Duration::minutes(270),
        ),
        official(
            "ankara",
            "pekan-budaya",
            "Pekan Budaya Indonesia di Ankara",
            "Pameran batik dan kuliner.",
            quake + Duration::hours(30),
        ),
    ]
}

/// Protests in Bangladesh over one afternoon: five media items from three outlets, and no
/// word from KBRI Dhaka.
pub fn bangladesh_protests() -> Vec<NormalizedItem> {
    let start = at("2024-07-18T06:00:00Z");
    let m = |source: &str, guid: &str, title: &str, hours: i64| {
        media(
            "dhaka",
            source,
            guid,
            title,
            "Police and students clashed in Dhaka as the protests spread.",
            start + Duration::hours(hours),
        )
    };
    vec![
        m(
            "media-dailystar",
            "ds-1",
            "Student protests over job quotas spread across Dhaka",
            0,
        ),
        m(
            "media-dhakatribune",
            "dt-1",
            "Clashes leave dozens injured as protesters block highways",
            2,
        ),
        m(
            "media-dailystar",
            "ds-2",
            "Protesters set fire to state broadcaster building",
            5,
        ),
        m(
            "media-newage",
            "na-1",
            "Curfew imposed after riots in Dhaka",
            9,
        ),
        m(
            "media-dhakatribune",
            "dt-2",
            "Unrest continues as internet is cut nationwide",
            12,
        ),
    ]
}

/// Monsoon floods in Malaysia that stay small: a green GDACS alert and two media reports.
pub fn malaysia_minor_flood() -> Vec<NormalizedItem> {
    let start = at("2024-11-28T00:00:00Z");
    vec![
        hazard(
            SourceKind::Gdacs,
            "FL1102864",
            HazardKind::Flood,
            None,
            Some(AlertLevel::Green),
            "MY",
            "Malaysia",
            start,
        ),
        media(
            "kualalumpur",
            "media-thestar",
            "ts-1",
            "Flash floods hit parts of Kelantan",
            "Several villages were inundated after heavy rain in Malaysia.",
            start + Duration::hours(3),
        ),
        media(
            "kualalumpur",
            "media-malaymail",
            "mm-1",
            "Flood victims moved to relief centres in Terengganu",
            "Floods forced families from their homes in Malaysia.",
            start + Duration::hours(7),
        ),
    ]
}

/// Two earthquakes in Japan twelve days apart: each its own crisis.
pub fn japan_two_quakes() -> Vec<NormalizedItem> {
    let first = at("2024-01-01T07:10:09Z");
    let second = first + Duration::days(12);
    vec![
        hazard(
            SourceKind::Usgs,
            "us6000m0xl",
            HazardKind::Earthquake,
            Some(7.5),
            Some(AlertLevel::Red),
            "JP",
            "Noto Peninsula, Japan",
            first,
        ),
        media(
            "tokyo",
            "media-japantimes",
            "jt-1",
            "Aftershocks rattle Noto Peninsula after deadly earthquake",
            "Aftershocks continued in Ishikawa, Japan.",
            first + Duration::hours(20),
        ),
        hazard(
            SourceKind::Usgs,
            "us7000lsze",
            HazardKind::Earthquake,
            Some(6.1),
            Some(AlertLevel::Yellow),
            "JP",
            "Off the coast of Hokkaido, Japan",
            second,
        ),
    ]
}

/// A felt BMKG earthquake in Indonesia itself (a home crisis), with an official post of the
/// permanent mission to ASEAN in Jakarta about it two hours later, which answers nothing, and
/// the same morning's Türkiye timeline, which must come out as without it.
pub fn indonesia_home_quake() -> Vec<NormalizedItem> {
    let quake = at("2023-02-06T02:00:00Z");
    let mut bmkg = hazard(
        SourceKind::Bmkg,
        "bmkg-20230206090000",
        HazardKind::Earthquake,
        Some(5.6),
        None,
        "ID",
        "Pusat gempa berada di darat 10 km barat daya Kab. Bantul",
        quake,
    );
    if let Some(event) = bmkg.hazard.as_mut() {
        event.felt = Some("IV Bantul, III Yogyakarta".into());
    }
    let mut items = vec![
        bmkg,
        official(
            "ptri-asean",
            "solidaritas-gempa-bantul",
            "PTRI ASEAN Sampaikan Solidaritas atas Gempa Bumi di Bantul",
            "Perutusan Tetap RI untuk ASEAN menyampaikan keprihatinan atas gempa di Bantul.",
            quake + Duration::hours(2),
        ),
    ];
    items.extend(turkiye_earthquake());
    items
}

/// The day after the Türkiye earthquake: Daily Sabah reports the Indonesian rescue team's
/// arrival (crisis-tagged: evidence of the crisis), and KBRI Ankara posts the same news in
/// Indonesian in words no crisis or response lexicon knows. The two are one story (the same
/// names and numbers: a translation), so the post answers the crisis through its story.
pub fn turkiye_rescue_team() -> Vec<NormalizedItem> {
    let quake = at("2023-02-06T01:17:34Z");
    vec![
        media(
            "ankara",
            "media-dailysabah",
            "ds-inasar",
            "Indonesian rescue team joins search for earthquake survivors in Hatay",
            "A 47-member Indonesian search and rescue team, INASAR, landed at Adana airport on \
             Tuesday and was deployed to Antakya in Hatay province, where rescuers are searching \
             collapsed buildings after the earthquake. The team brought rescue dogs and \
             equipment, Ambassador Lalu Muhamad Iqbal said.",
            quake + Duration::hours(20),
        ),
        official(
            "ankara",
            "inasar-tiba-di-adana",
            "Tim INASAR Tiba di Adana, Langsung Bertolak ke Antakya",
            "Sebanyak 47 personel tim INASAR mendarat di Bandara Adana pada Selasa dan langsung \
             diberangkatkan ke Antakya, Provinsi Hatay. Duta Besar Lalu Muhamad Iqbal menyambut \
             tim yang membawa anjing pelacak dan peralatan.",
            quake + Duration::hours(22),
        ),
    ]
}
