//! The hazard parsers against fixtures written for this project (`parse/testdata/`), shaped
//! like each feed's public answers.

use chrono::{DateTime, Utc};

use super::*;
use crate::model::{RawMeta, SourceKind};
use crate::parse::{parse, test_support};

fn fixture(file: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/src/parse/testdata/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn meta(kind: SourceKind) -> RawMeta {
    let mut meta = test_support::meta(kind, "global", "https://example.org/feed");
    meta.role = Role::Hazard;
    meta.source = "hazard-src".into();
    meta
}

fn run_body(kind: SourceKind, body: &[u8], key: &str) -> Result<Vec<NormalizedItem>, ParseError> {
    parse(&ParseInput {
        body,
        meta: &meta(kind),
        raw_key: key,
        time_zone: "UTC",
        source_language: None,
    })
}

fn run(kind: SourceKind, file: &str) -> Vec<NormalizedItem> {
    run_body(kind, &fixture(file), &format!("raw/global/{file}")).unwrap()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn event(item: &NormalizedItem) -> &HazardEvent {
    item.hazard
        .as_ref()
        .expect("a hazard item carries its event")
}

fn country(code: &str, basis: CountryBasis) -> HazardCountry {
    HazardCountry {
        code: code.into(),
        basis,
    }
}

fn fetched() -> DateTime<Utc> {
    at("2025-02-01T00:00:00Z")
}

#[test]
fn usgs_features_become_events_with_every_field() {
    let items = run(SourceKind::Usgs, "usgs_week.geojson");
    assert_eq!(items.len(), 4);

    let japan = &items[0];
    assert_eq!(japan.role, Role::Hazard);
    assert_eq!(japan.kind, SourceKind::Usgs);
    assert_eq!(japan.mission, "global");
    assert_eq!(japan.guid.as_deref(), Some("us7000r1ja"));
    assert_eq!(japan.title, "M 6.1 - 82 km ESE of Namie, Japan");
    assert_eq!(
        japan.url.as_deref(),
        Some("https://earthquake.usgs.gov/earthquakes/eventpage/us7000r1ja")
    );
    assert_eq!(japan.published_at, at("2025-11-28T05:25:12.345Z"));
    assert_eq!(japan.published_raw.as_deref(), Some("1764307512345"));
    assert_eq!(japan.time_basis, TimeBasis::Stated);
    assert_eq!(japan.language.as_deref(), Some("en"));
    assert_eq!(japan.categories, vec!["earthquake".to_string()]);
    assert_eq!(
        japan.body.as_deref(),
        Some(
            "Earthquake M 6.1 (mww); depth 35 km; 82 km ESE of Namie, Japan; alert green; \
             MMI 4.8; tsunami flagged"
        )
    );
    assert_eq!(japan.raw_key, "raw/global/usgs_week.geojson");

    let e = event(japan);
    assert_eq!(e.event_id, "us7000r1ja");
    assert_eq!(e.episode_id, None);
    assert_eq!(e.kind, HazardKind::Earthquake);
    assert_eq!(e.magnitude, Some(6.1));
    assert_eq!(e.magnitude_type.as_deref(), Some("mww"));
    assert_eq!(e.alert, Some(AlertLevel::Green));
    assert_eq!(e.severity.as_deref(), Some("MMI 4.8"));
    assert_eq!(e.occurred_at, at("2025-11-28T05:25:12.345Z"));
    assert_eq!(e.occurred_raw.as_deref(), Some("1764307512345"));
    assert_eq!(e.updated_at, Some(at("2025-11-28T05:50:01.234Z")));
    assert_eq!(e.ended_at, None);
    assert_eq!(
        (e.latitude, e.longitude, e.depth_km),
        (Some(37.2718), Some(142.3512), Some(35.2))
    );
    assert_eq!(e.place.as_deref(), Some("82 km ESE of Namie, Japan"));
    // Japan's outline in the boundary data takes in its coastal waters.
    assert_eq!(e.countries, vec![country("JP", CountryBasis::Coordinates)]);
    assert_eq!(e.link, japan.url);
    assert_eq!(e.felt_reports, Some(57));
    assert_eq!(e.felt, None);
    assert_eq!(e.tsunami, Some(true));
    assert_eq!(
        (e.mission.as_str(), e.source.as_str()),
        ("global", "hazard-src")
    );
    assert_eq!(e.fetched_at, fetched());
    assert_eq!(e.raw_key, "raw/global/usgs_week.geojson");

    let turkiye = event(&items[1]);
    assert_eq!(turkiye.event_id, "us6000s2tk");
    assert_eq!(turkiye.magnitude_type.as_deref(), Some("mb"));
    assert_eq!(turkiye.alert, None);
    assert_eq!(turkiye.severity, None);
    assert_eq!(turkiye.felt_reports, None);
    assert_eq!(turkiye.tsunami, Some(false));
    assert_eq!(
        turkiye.countries,
        vec![country("TR", CountryBasis::Coordinates)]
    );

    // Mid-ocean: no boundary contains it or lies within 100 km, and the place names none.
    let ridge = event(&items[2]);
    assert_eq!(ridge.place.as_deref(), Some("northern Mid-Atlantic Ridge"));
    assert_eq!(ridge.countries, vec![]);

    // 135 km off Java: beyond the coastal probe, so the place text's country decides.
    let java = event(&items[3]);
    assert_eq!(java.felt_reports, Some(3));
    assert_eq!(
        java.countries,
        vec![country(
            "ID",
            CountryBasis::FeedName {
                name: "Indonesia".into()
            }
        )]
    );
}

#[test]
fn gdacs_items_read_the_gdacs_namespace() {
    let items = run(SourceKind::Gdacs, "gdacs_rss.xml");
    assert_eq!(items.len(), 3);

    let quake = &items[0];
    assert_eq!(
        quake.title,
        "Green earthquake alert (Magnitude 6.1M, Depth:35.2km) in Japan 28/11/2025 05:25 UTC, \
         1.2 million in 100km."
    );
    assert_eq!(quake.guid.as_deref(), Some("EQ1512345"));
    assert_eq!(
        quake.url.as_deref(),
        Some("https://www.gdacs.org/report.aspx?eventtype=EQ&eventid=1512345")
    );
    assert_eq!(
        quake.summary.as_deref(),
        Some(
            "On 11/28/2025 5:25:12 AM, an earthquake of magnitude 6.1 occurred in Japan. The \
             earthquake had a depth of 35.2 km."
        )
    );
    assert_eq!(quake.published_at, at("2025-11-28T05:25:12Z"));
    assert_eq!(quake.role, Role::Hazard);
    let e = event(quake);
    assert_eq!(e.event_id, "EQ1512345");
    assert_eq!(e.episode_id.as_deref(), Some("1678901"));
    assert_eq!(e.kind, HazardKind::Earthquake);
    assert_eq!(e.magnitude, Some(6.1));
    assert_eq!(e.magnitude_type.as_deref(), Some("M"));
    assert_eq!(e.depth_km, Some(35.2));
    assert_eq!(e.alert, Some(AlertLevel::Green));
    assert_eq!(e.severity.as_deref(), Some("Magnitude 6.1M, Depth:35.2km"));
    assert_eq!(
        e.occurred_raw.as_deref(),
        Some("Fri, 28 Nov 2025 05:25:12 GMT")
    );
    assert_eq!(e.updated_at, Some(at("2025-11-28T05:47:03Z")));
    // `todate` equal to `fromdate` is no end.
    assert_eq!(e.ended_at, None);
    assert_eq!((e.latitude, e.longitude), (Some(37.2718), Some(142.3512)));
    assert_eq!(e.place.as_deref(), Some("Japan"));
    assert_eq!(
        e.countries,
        vec![country("JP", CountryBasis::FeedIso3 { iso3: "JPN".into() })]
    );
    assert_eq!((e.tsunami, e.felt_reports), (None, None));

    let cyclone = &items[1];
    assert_eq!(cyclone.categories, vec!["tropical_cyclone".to_string()]);
    let e = event(cyclone);
    assert_eq!(e.event_id, "TC1001225");
    assert_eq!(e.episode_id.as_deref(), Some("21"));
    assert_eq!(e.kind, HazardKind::TropicalCyclone);
    assert_eq!(e.magnitude, None, "wind speed is not a magnitude");
    assert_eq!(e.depth_km, None);
    assert_eq!(e.alert, Some(AlertLevel::Orange));
    assert_eq!(
        e.severity.as_deref(),
        Some("Typhoon (maximum wind speed of 167 km/h)")
    );
    assert_eq!(e.occurred_at, at("2025-11-03T00:00:00Z"));
    assert_eq!(e.ended_at, Some(at("2025-11-07T06:00:00Z")));
    assert_eq!((e.latitude, e.longitude), (Some(13.0), Some(128.0)));
    // Empty iso3: the country names decide, both of them, in order.
    let named = CountryBasis::FeedName {
        name: "Philippines, Viet Nam".into(),
    };
    assert_eq!(
        e.countries,
        vec![country("PH", named.clone()), country("VN", named)]
    );

    let flood = &items[2];
    assert_eq!(flood.title, "Red flood alert in Indonesia");
    // CDATA HTML description → text.
    assert_eq!(
        flood.summary.as_deref(),
        Some("Indonesia - Flood - Sumatera Barat: heavy rain since 24/11/2025.")
    );
    let e = event(flood);
    assert_eq!(e.kind, HazardKind::Flood);
    assert_eq!(e.alert, Some(AlertLevel::Red));
    assert_eq!(e.magnitude, None);
    // geo:Point when there is no georss:point.
    assert_eq!((e.latitude, e.longitude), (Some(-0.95), Some(100.35)));
    assert_eq!(e.ended_at, Some(at("2025-11-27T00:00:00Z")));
    assert_eq!(
        e.countries,
        vec![country("ID", CountryBasis::FeedIso3 { iso3: "IDN".into() })]
    );
}

#[test]
fn bmkg_autogempa_is_one_event() {
    let items = run(SourceKind::Bmkg, "bmkg_autogempa.json");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(
        item.title,
        "Gempa M5.1 Pusat gempa berada di laut 33 km BaratDaya Gunungkidul"
    );
    assert_eq!(
        item.guid.as_deref(),
        Some("2025-11-28T02:12:45+00:00@-8.52,110.41")
    );
    assert_eq!(item.language.as_deref(), Some("id"));
    assert_eq!(item.published_at, at("2025-11-28T02:12:45Z"));
    assert_eq!(
        item.url.as_deref(),
        Some("https://data.bmkg.go.id/DataMKG/TEWS/20251128091245.mmi.jpg")
    );
    let e = event(item);
    assert_eq!(e.kind, HazardKind::Earthquake);
    assert_eq!(e.magnitude, Some(5.1));
    assert_eq!(e.depth_km, Some(24.0));
    assert_eq!((e.latitude, e.longitude), (Some(-8.52), Some(110.41)));
    assert_eq!(e.occurred_raw.as_deref(), Some("2025-11-28T02:12:45+00:00"));
    assert_eq!(e.severity.as_deref(), Some("Tidak berpotensi tsunami"));
    assert_eq!(e.tsunami, Some(false));
    assert_eq!(
        e.felt.as_deref(),
        Some("III Gunungkidul, III Bantul, II - III Yogyakarta")
    );
    assert_eq!(
        e.place.as_deref(),
        Some("Pusat gempa berada di laut 33 km BaratDaya Gunungkidul")
    );
    // At sea off Java's south coast: land within the 25 km ring.
    assert_eq!(
        e.countries,
        vec![country("ID", CountryBasis::NearCoordinates { km: 25 })]
    );
}

#[test]
fn bmkg_gempaterkini_is_a_list_and_falls_back_to_tanggal_jam() {
    let items = run(SourceKind::Bmkg, "bmkg_gempaterkini.json");
    assert_eq!(items.len(), 3);
    let seram = event(&items[0]);
    assert_eq!(seram.magnitude, Some(5.6));
    assert_eq!(seram.depth_km, Some(10.0));
    assert_eq!(seram.occurred_at, at("2025-11-27T14:41:07Z"));
    assert_eq!(
        seram.countries,
        vec![country("ID", CountryBasis::Coordinates)]
    );
    assert_eq!(seram.link, None);
    assert_eq!(seram.felt, None);

    // No `DateTime`: `Tanggal` + `Jam` with its WIB.
    let simeulue = &items[1];
    assert_eq!(simeulue.published_at, at("2025-11-25T21:03:19Z"));
    assert_eq!(simeulue.time_basis, TimeBasis::Stated);
    let e = event(simeulue);
    assert_eq!(e.occurred_raw.as_deref(), Some("26 Nov 2025 04:03:19 WIB"));
    assert_eq!(e.event_id, "26 Nov 2025 04:03:19 WIB@2.61,95.53");
    assert_eq!(e.tsunami, Some(true));
    assert!(
        simeulue
            .body
            .as_deref()
            .unwrap()
            .contains("tsunami flagged"),
        "{:?}",
        simeulue.body
    );

    let karatung = event(&items[2]);
    assert_eq!(
        (karatung.latitude, karatung.longitude),
        (Some(5.9), Some(126.9))
    );
    assert_eq!(
        karatung.countries,
        vec![country("ID", CountryBasis::NearCoordinates { km: 25 })]
    );
}

#[test]
fn reliefweb_reports_become_events_of_their_disaster_type() {
    let items = run(SourceKind::Reliefweb, "reliefweb_reports.json");
    assert_eq!(items.len(), 2);

    let floods = &items[0];
    assert_eq!(
        floods.title,
        "Indonesia: Floods and Landslides in West Sumatra - Flash Update No. 2 (28 November 2025)"
    );
    assert_eq!(floods.guid.as_deref(), Some("reliefweb:4181234"));
    assert_eq!(
        floods.url.as_deref(),
        Some(
            "https://reliefweb.int/report/indonesia/indonesia-floods-and-landslides-west-sumatra-flash-update-no-2-28-november-2025"
        )
    );
    assert_eq!(floods.published_at, at("2025-11-28T05:42:17Z"));
    assert_eq!(floods.language.as_deref(), Some("en"));
    assert_eq!(
        floods.authors,
        vec!["UN Office for the Coordination of Humanitarian Affairs".to_string()]
    );
    assert!(
        floods
            .summary
            .as_deref()
            .unwrap()
            .starts_with("Heavy rainfall since 24 November caused flash floods"),
        "{:?}",
        floods.summary
    );
    let e = event(floods);
    assert_eq!(e.kind, HazardKind::Flood);
    assert_eq!(e.updated_at, Some(at("2025-11-28T06:10:11Z")));
    assert_eq!(e.place.as_deref(), Some("Indonesia"));
    assert_eq!(
        (e.latitude, e.longitude, e.magnitude, e.alert),
        (None, None, None, None)
    );
    // Lower-case iso3 in the feed, primary country listed twice: one country.
    assert_eq!(
        e.countries,
        vec![country("ID", CountryBasis::FeedIso3 { iso3: "IDN".into() })]
    );

    let typhoon = event(&items[1]);
    assert_eq!(typhoon.kind, HazardKind::TropicalCyclone);
    assert_eq!(typhoon.event_id, "reliefweb:4179876");
    assert_eq!(typhoon.place.as_deref(), Some("Viet Nam, Philippines"));
    assert_eq!(typhoon.countries.len(), 2);
    assert_eq!(typhoon.countries[0].code, "VN");
    assert_eq!(typhoon.countries[1].code, "PH");
    assert_eq!(items[1].summary, None);
}

#[test]
fn fixture_points_resolve_as_recorded() {
    // The figure the report quotes: of the fixture events with coordinates, how many got a
    // country, and on which basis.
    let mut with_point = 0;
    let mut by_basis = std::collections::BTreeMap::<&str, usize>::new();
    for (kind, file) in [
        (SourceKind::Usgs, "usgs_week.geojson"),
        (SourceKind::Gdacs, "gdacs_rss.xml"),
        (SourceKind::Bmkg, "bmkg_autogempa.json"),
        (SourceKind::Bmkg, "bmkg_gempaterkini.json"),
    ] {
        for item in run(kind, file) {
            let e = event(&item);
            if e.latitude.is_none() {
                continue;
            }
            with_point += 1;
            let basis = match e.countries.first().map(|c| &c.basis) {
                None => "none",
                Some(CountryBasis::Coordinates) => "coordinates",
                Some(CountryBasis::NearCoordinates { .. }) => "near_coordinates",
                Some(CountryBasis::FeedIso3 { .. }) => "feed_iso3",
                Some(CountryBasis::FeedName { .. }) => "feed_name",
            };
            *by_basis.entry(basis).or_default() += 1;
        }
    }
    println!("fixture events with coordinates: {with_point}; first country by basis: {by_basis:?}");
    assert_eq!(with_point, 11);
    assert_eq!(by_basis.get("none"), Some(&1));
}

#[test]
fn hazard_items_round_trip_through_json_lines() {
    for (kind, file) in [
        (SourceKind::Usgs, "usgs_week.geojson"),
        (SourceKind::Gdacs, "gdacs_rss.xml"),
        (SourceKind::Bmkg, "bmkg_gempaterkini.json"),
        (SourceKind::Reliefweb, "reliefweb_reports.json"),
    ] {
        for item in run(kind, file) {
            let line = serde_json::to_string(&item).unwrap();
            let back: NormalizedItem = serde_json::from_str(&line).unwrap();
            assert_eq!(back, item, "{file}");
        }
    }
}

#[test]
fn missing_fields_are_tolerated() {
    // No id → skipped; no time → fetch time, said so; no geometry → no point, no country;
    // numbers as strings are read.
    let body = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"mag":5}},
        {"type":"Feature","id":"x1","properties":{"mag":"4.5","place":null,"tsunami":"1"}},
        {"type":"Feature","id":"x2","properties":null,"geometry":null}
    ]}"#;
    let items = run_body(SourceKind::Usgs, body, "raw/k").unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].time_basis, TimeBasis::FetchTime);
    assert_eq!(items[0].published_at, fetched());
    assert_eq!(items[0].title, "Earthquake M 4.5 x1");
    let e = event(&items[0]);
    assert_eq!((e.magnitude, e.tsunami), (Some(4.5), Some(true)));
    assert_eq!((e.latitude, e.countries.len()), (None, 0));
    assert_eq!(e.occurred_at, fetched());
    assert_eq!(items[1].title, "Earthquake x2");

    let bmkg = br#"{"Infogempa":{"gempa":[{"Magnitude":"abc","Coordinates":"nan,x"},
        {"DateTime":"2025-01-01T00:00:00+07:00","Lintang":"1.5 LS","Bujur":"120.2 BT","Kedalaman":"km"}]}}"#;
    let items = run_body(SourceKind::Bmkg, bmkg, "raw/b").unwrap();
    assert_eq!(
        items.len(),
        1,
        "the quake with neither time nor place is skipped"
    );
    let e = event(&items[0]);
    assert_eq!((e.latitude, e.longitude), (Some(-1.5), Some(120.2)));
    assert_eq!((e.magnitude, e.depth_km), (None, None));
    assert_eq!(e.occurred_at, at("2024-12-31T17:00:00Z"));

    let empty = br#"{"Infogempa":{"gempa":null}}"#;
    assert!(
        run_body(SourceKind::Bmkg, empty, "raw/e")
            .unwrap()
            .is_empty()
    );
    let empty = br#"{"data":[]}"#;
    assert!(
        run_body(SourceKind::Reliefweb, empty, "raw/e")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn wrong_bodies_are_errors_naming_the_raw_key() {
    let cases: [(SourceKind, &[u8]); 7] = [
        (SourceKind::Usgs, b"<html>"),
        (SourceKind::Usgs, br#"{"type":"nothing"}"#),
        (SourceKind::Usgs, br#"{"features":{}}"#),
        (SourceKind::Bmkg, br#"{"data":[]}"#),
        (SourceKind::Reliefweb, br#"[1,2]"#),
        (SourceKind::Gdacs, b"{\"json\": true}"),
        (
            SourceKind::Gdacs,
            b"<html><body>down for maintenance</body></html>",
        ),
    ];
    for (kind, body) in cases {
        let err = run_body(kind, body, "raw/global/src/bad").unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::NotJson { .. }
                    | ParseError::UnexpectedShape { .. }
                    | ParseError::NotAFeed { .. }
            ),
            "{kind}: {err}"
        );
        assert!(err.to_string().contains("raw/global/src/bad"), "{err}");
    }
}

#[test]
fn truncated_gdacs_keeps_the_items_before_the_break() {
    let body = fixture("gdacs_rss.xml");
    let text = String::from_utf8(body).unwrap();
    // Cut inside the third item: its end tag is gone, the first two are whole.
    let cut = text.find("<title>Red flood").unwrap() + 20;
    let items = run_body(SourceKind::Gdacs, &text.as_bytes()[..cut], "raw/t").unwrap();
    assert_eq!(items.len(), 2);
}

#[test]
fn no_prefix_of_any_fixture_panics() {
    for (kind, file) in [
        (SourceKind::Usgs, "usgs_week.geojson"),
        (SourceKind::Gdacs, "gdacs_rss.xml"),
        (SourceKind::Bmkg, "bmkg_autogempa.json"),
        (SourceKind::Bmkg, "bmkg_gempaterkini.json"),
        (SourceKind::Reliefweb, "reliefweb_reports.json"),
    ] {
        let body = fixture(file);
        for end in (0..body.len()).step_by(7) {
            if let Err(ParseError::Panicked { message, .. }) = run_body(kind, &body[..end], "raw/p")
            {
                panic!("{file} cut at {end}: {message}");
            }
        }
    }
}

#[test]
fn small_readers() {
    assert_eq!(depth_in_severity("Magnitude 6.1M, Depth:10km"), Some(10.0));
    assert_eq!(depth_in_severity("Magnitude 0"), None);
    assert_eq!(hemisphere("7.52 LS", "LS", "LU"), Some(-7.52));
    assert_eq!(hemisphere("2.61 LU", "LS", "LU"), Some(2.61));
    assert_eq!(hemisphere("110.44 BT", "BB", "BT"), Some(110.44));
    assert_eq!(lat_lon_pair("-7.52,110.44"), Some((-7.52, 110.44)));
    assert_eq!(lat_lon_pair("-7.52"), None);
    assert_eq!(leading_number("10 km"), Some(10.0));
    assert_eq!(leading_number("km"), None);
    assert_eq!(bmkg_tsunami("Tidak berpotensi tsunami"), Some(false));
    assert_eq!(bmkg_tsunami("Berpotensi TSUNAMI"), Some(true));
    assert_eq!(
        bmkg_tsunami("Gempa ini dirasakan untuk diteruskan pada masyarakat"),
        None
    );
    assert_eq!(kind_of_name("Flash Flood"), HazardKind::Flood);
    assert_eq!(kind_of_name("Wild Fire"), HazardKind::Wildfire);
    assert_eq!(kind_of_name("Volcano"), HazardKind::Volcano);
    assert_eq!(kind_of_name("Epidemic"), HazardKind::Other);
    assert_eq!(after_last_comma("50 km E of Miyako, Japan"), "Japan");
    assert_eq!(split_list("JPN, phl;IDN"), vec!["JPN", "PHL", "IDN"]);
}
