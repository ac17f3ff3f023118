//! Hazard feeds → items that carry a [`HazardEvent`] (see `shared/reference/hazard-feeds.md`).
//!
//! Four formats: USGS GeoJSON ([`parse_usgs`]), GDACS RSS with its `gdacs:` namespace
//! ([`parse_gdacs`]; feed-rs drops unknown namespaces, so this reads the XML itself), BMKG's
//! JSON ([`parse_bmkg`]) and ReliefWeb's API v2 JSON ([`parse_reliefweb`]).
//!
//! Every event also becomes an ordinary item (role `hazard`, the feed's title, the event's
//! link, the event id as guid, the event time as published time, the place and magnitude as
//! body) so every later stage handles it like any other; the structured event rides along in
//! [`NormalizedItem::hazard`].
//!
//! The event's countries are decided in this order, each with its basis kept: the feed's
//! ISO alpha-3 codes; the feed's country names; the coordinates inside a boundary; a country
//! named at the end of the feed's place text (`…, Japan`); land within 100 km of the
//! coordinates. An event at sea far from land has none.
//!
//! Feeds are read leniently: any field may be missing, numbers may come as strings. An entry
//! without an id is skipped with a warning; a body that is not the format is an error.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

use super::date::parse_date;
use super::text::{collapse_whitespace, html_to_text, normalize_title, summarize};
use super::url::canonical_url;
use super::{NormalizedItem, ParseError, ParseInput, SUMMARY_CHARS, new_item};
use crate::fetch::decode_to_utf8;
use crate::geo::{self, Located};
use crate::model::{
    AlertLevel, CountryBasis, HazardCountry, HazardEvent, HazardKind, Role, TimeBasis,
};

/// The zone BMKG's `Tanggal`/`Jam` are in when `DateTime` is missing (`Jam` says WIB).
const BMKG_ZONE: Tz = chrono_tz::Asia::Jakarta;
/// Where BMKG's shakemap images live.
const BMKG_SHAKEMAP_BASE: &str = "https://data.bmkg.go.id/DataMKG/TEWS/";

// ---------------------------------------------------------------------------------------------
// USGS GeoJSON
// ---------------------------------------------------------------------------------------------

/// A USGS FeatureCollection (or a single Feature, as the detail endpoint gives).
pub(crate) fn parse_usgs(input: &ParseInput, _zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    let root = json(input)?;
    let features: Vec<&Value> = match (root.get("type").and_then(Value::as_str), &root) {
        (Some("Feature"), _) => vec![&root],
        (_, Value::Object(obj)) => match obj.get("features") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(Value::Null) => Vec::new(),
            Some(other) => {
                return Err(shape(
                    input,
                    format!("`features` is a {}", type_name(other)),
                ));
            }
            None => {
                return Err(shape(
                    input,
                    "no `features`: not a GeoJSON FeatureCollection",
                ));
            }
        },
        (_, other) => return Err(shape(input, format!("a JSON {}", type_name(other)))),
    };
    let mut items = Vec::with_capacity(features.len());
    for (index, feature) in features.into_iter().enumerate() {
        let props = feature.get("properties").unwrap_or(&Value::Null);
        let Some(event_id) = text(feature.get("id")).or_else(|| {
            // `ids` is `,us7000n7n8,at00s1234,`: the first is the preferred one.
            text(props.get("ids"))
                .and_then(|ids| ids.split(',').find(|s| !s.is_empty()).map(str::to_owned))
        }) else {
            tracing::warn!(
                raw_key = input.raw_key,
                index,
                "USGS feature without id, skipped"
            );
            continue;
        };
        let coordinates = feature
            .get("geometry")
            .and_then(|g| g.get("coordinates"))
            .and_then(Value::as_array);
        let coordinate = |i: usize| coordinates.and_then(|c| c.get(i)).and_then(number);
        let (longitude, latitude, depth_km) = (coordinate(0), coordinate(1), coordinate(2));
        let time_ms = props.get("time").and_then(number);
        let occurred_at = time_ms.and_then(from_epoch_ms);
        let place = text(props.get("place"));
        let magnitude = props.get("mag").and_then(number);
        let kind = match text(props.get("type")).as_deref() {
            None | Some("earthquake") => HazardKind::Earthquake,
            Some(_) => HazardKind::Other,
        };
        let place_country = place.as_deref().map(after_last_comma);
        let mut event = blank_event(input, event_id, kind);
        event.magnitude = magnitude;
        event.magnitude_type = text(props.get("magType"));
        event.alert = text(props.get("alert"))
            .as_deref()
            .and_then(AlertLevel::parse);
        event.severity = props
            .get("mmi")
            .and_then(number)
            .map(|mmi| format!("MMI {mmi:.1}"));
        event.occurred_raw = time_ms.map(|ms| format!("{ms}"));
        event.updated_at = props
            .get("updated")
            .and_then(number)
            .and_then(from_epoch_ms);
        (event.latitude, event.longitude, event.depth_km) = (latitude, longitude, depth_km);
        event.countries = decide_countries(&[], None, point(latitude, longitude), place_country);
        event.place = place;
        event.link = text(props.get("url")).and_then(|u| canonical_url(&u));
        event.felt_reports = props.get("felt").and_then(Value::as_u64);
        event.tsunami = props.get("tsunami").and_then(flag);
        let title = text(props.get("title")).unwrap_or_else(|| fallback_title(&event));
        items.push(into_item(input, event, occurred_at, title, None, "en"));
    }
    Ok(items)
}

// ---------------------------------------------------------------------------------------------
// GDACS RSS
// ---------------------------------------------------------------------------------------------

/// One element inside an RSS `<item>`: its name as written, its parent's local name when it
/// is a grandchild (only `geo:Point`'s children are kept), text and the attributes we read.
#[derive(Debug, Default)]
struct XmlField {
    name: String,
    parent: Option<String>,
    text: String,
    value: Option<String>,
    unit: Option<String>,
}

impl XmlField {
    fn local(&self) -> &str {
        local_part(&self.name)
    }
    fn prefixed(&self) -> bool {
        self.name.contains(':')
    }
}

fn local_part(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// GDACS's RSS: every `<item>` with its `gdacs:` fields.
pub(crate) fn parse_gdacs(input: &ParseInput, zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    let (xml, _) = decode_to_utf8(input.body, input.meta.charset.as_deref());
    let entries = read_rss_items(input, &xml)?;
    let mut items = Vec::with_capacity(entries.len());
    for (index, fields) in entries.iter().enumerate() {
        if let Some(item) = gdacs_item(input, zone, fields) {
            items.push(item);
        } else {
            tracing::warn!(
                raw_key = input.raw_key,
                index,
                "GDACS item without event id or guid, skipped"
            );
        }
    }
    Ok(items)
}

fn gdacs_item(input: &ParseInput, zone: Tz, fields: &[XmlField]) -> Option<NormalizedItem> {
    // RSS's own elements are unprefixed; GDACS's are `gdacs:`-prefixed (any prefix will do).
    let rss = |local: &str| {
        fields
            .iter()
            .find(|f| f.parent.is_none() && !f.prefixed() && f.local() == local)
            .map(|f| f.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let ns_field = |local: &str| {
        fields
            .iter()
            .find(|f| f.parent.is_none() && f.prefixed() && f.local().eq_ignore_ascii_case(local))
    };
    let ns = |local: &str| {
        ns_field(local)
            .map(|f| f.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let event_type = ns("eventtype").map(|t| t.to_ascii_uppercase());
    let event_id = match (&event_type, ns("eventid")) {
        (Some(t), Some(id)) => format!("{t}{id}"),
        (None, Some(id)) => id,
        (_, None) => rss("guid")?,
    };
    let kind = match event_type.as_deref() {
        Some("EQ") => HazardKind::Earthquake,
        Some("TC") => HazardKind::TropicalCyclone,
        Some("FL") => HazardKind::Flood,
        Some("VO") => HazardKind::Volcano,
        Some("DR") => HazardKind::Drought,
        Some("WF") => HazardKind::Wildfire,
        Some("TS") => HazardKind::Tsunami,
        _ => HazardKind::Other,
    };
    let date = |raw: Option<String>| raw.and_then(|r| parse_date(&r, zone).map(|d| (d.at, r)));
    let occurred = date(ns("fromdate")).or_else(|| date(rss("pubDate")));
    let severity = ns_field("severity");
    let severity_text = severity
        .map(|f| collapse_whitespace(&f.text))
        .filter(|t| !t.is_empty());

    let mut event = blank_event(input, event_id, kind);
    event.episode_id = ns("episodeid");
    event.alert = ns("alertlevel").as_deref().and_then(AlertLevel::parse);
    if kind == HazardKind::Earthquake {
        // `<gdacs:severity unit="M" value="6.1">Magnitude 6.1M, Depth:10km</gdacs:severity>`
        event.magnitude = severity
            .and_then(|f| f.value.as_deref())
            .and_then(parse_number);
        event.magnitude_type = severity
            .and_then(|f| f.unit.clone())
            .filter(|u| !u.is_empty());
        event.depth_km = severity_text.as_deref().and_then(depth_in_severity);
    }
    event.severity = severity_text;
    event.occurred_raw = occurred.as_ref().map(|(_, raw)| raw.clone());
    event.updated_at = date(ns("datemodified")).map(|(at, _)| at);
    event.ended_at = date(ns("todate"))
        .map(|(at, _)| at)
        .filter(|end| occurred.as_ref().is_none_or(|(start, _)| end > start));
    let (latitude, longitude) = gdacs_point(fields);
    (event.latitude, event.longitude) = (latitude, longitude);
    let country_names = ns("country");
    let iso3s: Vec<String> = ns("iso3")
        .map(|codes| split_list(&codes))
        .unwrap_or_default();
    event.countries = decide_countries(
        &iso3s,
        country_names.as_deref(),
        point(latitude, longitude),
        None,
    );
    event.place = country_names;
    event.link = rss("link").and_then(|u| canonical_url(&u));
    let title = rss("title")
        .map(|t| normalize_title(&t))
        .unwrap_or_else(|| fallback_title(&event));
    let summary = rss("description")
        .map(|d| summarize(&html_to_text(&d), SUMMARY_CHARS))
        .filter(|s| !s.is_empty());
    let occurred_at = occurred.map(|(at, _)| at);
    Some(into_item(input, event, occurred_at, title, summary, "en"))
}

/// `georss:point` ("lat lon"), else `geo:Point`'s `geo:lat`/`geo:long`.
fn gdacs_point(fields: &[XmlField]) -> (Option<f64>, Option<f64>) {
    let georss = fields
        .iter()
        .find(|f| f.parent.is_none() && f.local() == "point")
        .and_then(|f| {
            let mut parts = f.text.split_whitespace().map(parse_number);
            Some((parts.next()??, parts.next()??))
        });
    if let Some((lat, lon)) = georss {
        return (Some(lat), Some(lon));
    }
    let in_point = |local: &str| {
        fields
            .iter()
            .find(|f| f.parent.as_deref() == Some("Point") && f.local() == local)
            .and_then(|f| parse_number(&f.text))
    };
    (
        in_point("lat"),
        in_point("long").or_else(|| in_point("lon")),
    )
}

/// The children of every RSS `<item>`, in document order. XML that breaks off after some
/// items keeps those items; a document with no `<rss>`/`<rdf:RDF>`/`<channel>` is an error.
fn read_rss_items(input: &ParseInput, xml: &str) -> Result<Vec<Vec<XmlField>>, ParseError> {
    let mut reader = Reader::from_str(xml);
    let mut items: Vec<Vec<XmlField>> = Vec::new();
    let mut saw_feed_root = false;
    // Depth inside the current `<item>` (0: not in one) and the open elements below it.
    let mut item_depth = 0usize;
    let mut open: Vec<XmlField> = Vec::new();
    let mut current: Vec<XmlField> = Vec::new();
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                if items.is_empty() && current.is_empty() {
                    return Err(not_a_feed(input, format!("XML error: {e}")));
                }
                tracing::warn!(raw_key = input.raw_key, error = %e, "GDACS XML breaks off; keeping the items before");
                break;
            }
        };
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().to_owned();
                let local = local_part(&name);
                if item_depth == 0 {
                    if matches!(local, "rss" | "RDF" | "channel") {
                        saw_feed_root = true;
                    }
                    if local == "item" {
                        item_depth = 1;
                        current = Vec::new();
                    }
                    continue;
                }
                item_depth += 1;
                open.push(field_of(&start, open.last()));
            }
            Event::Empty(start) if item_depth > 0 => {
                let field = field_of(&start, open.last());
                keep_if_wanted(&mut current, field, item_depth + 1);
            }
            Event::End(_) => {
                if item_depth == 0 {
                    continue;
                }
                if item_depth == 1 {
                    items.push(std::mem::take(&mut current));
                    open.clear();
                    item_depth = 0;
                    continue;
                }
                if let Some(field) = open.pop() {
                    keep_if_wanted(&mut current, field, item_depth);
                }
                item_depth -= 1;
            }
            Event::Text(t) => push_text(&mut open, &t),
            Event::CData(t) => push_text(&mut open, &t),
            Event::GeneralRef(r) => {
                if let Some(field) = open.last_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => field.text.push(c),
                        _ => {
                            let name: &str = &r;
                            match quick_xml::escape::resolve_predefined_entity(name) {
                                Some(resolved) => field.text.push_str(resolved),
                                None => {
                                    field.text.push('&');
                                    field.text.push_str(name);
                                    field.text.push(';');
                                }
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_feed_root {
        return Err(not_a_feed(
            input,
            "no <rss>, <rdf:RDF> or <channel> element".into(),
        ));
    }
    Ok(items)
}

fn push_text(open: &mut [XmlField], text: &str) {
    if let Some(field) = open.last_mut() {
        field.text.push_str(text);
    }
}

/// An element's name, parent and the two attributes GDACS puts values in.
fn field_of(start: &BytesStart, parent: Option<&XmlField>) -> XmlField {
    let attribute = |key: &str| {
        start.try_get_attribute(key).ok().flatten().and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_owned())
        })
    };
    XmlField {
        name: start.name().as_ref().to_owned(),
        parent: parent.map(|p| p.local().to_owned()),
        text: String::new(),
        value: attribute("value"),
        unit: attribute("unit"),
    }
}

/// Keeps the item's direct children (closing at depth 2) and `geo:Point`'s children.
fn keep_if_wanted(current: &mut Vec<XmlField>, mut field: XmlField, depth: usize) {
    match depth {
        2 => {
            field.parent = None;
            current.push(field);
        }
        3 if field.parent.as_deref() == Some("Point") => current.push(field),
        _ => {}
    }
}

/// "Magnitude 6.1M, Depth:10km" → 10.
fn depth_in_severity(severity: &str) -> Option<f64> {
    let lower = severity.to_ascii_lowercase();
    let rest = &lower[lower.find("depth")? + "depth".len()..];
    leading_number(rest.trim_start_matches([':', ' ']))
}

// ---------------------------------------------------------------------------------------------
// BMKG JSON
// ---------------------------------------------------------------------------------------------

/// BMKG's `{"Infogempa": {"gempa": {...} | [...]}}`: all values strings.
pub(crate) fn parse_bmkg(input: &ParseInput, _zone: Tz) -> Result<Vec<NormalizedItem>, ParseError> {
    let root = json(input)?;
    let gempa = root
        .get("Infogempa")
        .or_else(|| root.get("infogempa"))
        .ok_or_else(|| shape(input, "no `Infogempa`: not a BMKG answer"))?
        .get("gempa");
    let quakes: Vec<&Value> = match gempa {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(shape(
                input,
                format!("`Infogempa.gempa` is a {}", type_name(other)),
            ));
        }
    };
    let mut items = Vec::with_capacity(quakes.len());
    for (index, quake) in quakes.into_iter().enumerate() {
        match bmkg_item(input, quake) {
            Some(item) => items.push(item),
            None => tracing::warn!(
                raw_key = input.raw_key,
                index,
                "BMKG quake with neither time nor coordinates, skipped"
            ),
        }
    }
    Ok(items)
}

fn bmkg_item(input: &ParseInput, quake: &Value) -> Option<NormalizedItem> {
    let field = |name: &str| text(quake.get(name));
    let stated = field("DateTime");
    let local = match (field("Tanggal"), field("Jam")) {
        (Some(d), Some(t)) => Some(format!("{d} {t}")),
        (d, t) => d.or(t),
    };
    // `DateTime` has the offset; `Tanggal` + `Jam` ("12 Des 2025 14:35:21 WIB") is the fallback.
    let occurred = stated
        .as_deref()
        .and_then(|raw| DateTime::parse_from_rfc3339(raw).ok())
        .map(|at| (at.with_timezone(&Utc), stated.clone().unwrap_or_default()))
        .or_else(|| {
            let raw = local.clone()?;
            parse_date(&raw, BMKG_ZONE).map(|d| (d.at, raw))
        });
    let (latitude, longitude) = match field("Coordinates").as_deref().and_then(lat_lon_pair) {
        Some((lat, lon)) => (Some(lat), Some(lon)),
        None => (
            field("Lintang")
                .as_deref()
                .and_then(|l| hemisphere(l, "LS", "LU")),
            field("Bujur")
                .as_deref()
                .and_then(|b| hemisphere(b, "BB", "BT")),
        ),
    };
    let time_part = stated.clone().or(local)?;
    let event_id = match field("Coordinates") {
        Some(coords) => format!("{time_part}@{coords}"),
        None => time_part,
    };
    let place = field("Wilayah");
    let potensi = field("Potensi");
    let mut event = blank_event(input, event_id, HazardKind::Earthquake);
    event.magnitude = field("Magnitude").as_deref().and_then(parse_number);
    event.depth_km = field("Kedalaman").as_deref().and_then(leading_number);
    event.tsunami = potensi.as_deref().and_then(bmkg_tsunami);
    event.severity = potensi;
    event.occurred_raw = occurred.as_ref().map(|(_, raw)| raw.clone());
    (event.latitude, event.longitude) = (latitude, longitude);
    event.countries = decide_countries(
        &[],
        None,
        point(latitude, longitude),
        place.as_deref().map(after_last_comma),
    );
    event.felt = field("Dirasakan");
    event.link =
        field("Shakemap").and_then(|file| canonical_url(&format!("{BMKG_SHAKEMAP_BASE}{file}")));
    event.place = place;
    let title = match (&event.magnitude, &event.place) {
        (Some(m), Some(p)) => format!("Gempa M{m:.1} {p}"),
        (Some(m), None) => format!("Gempa M{m:.1}"),
        (None, Some(p)) => format!("Gempa {p}"),
        (None, None) => "Gempa".to_owned(),
    };
    let occurred_at = occurred.map(|(at, _)| at);
    Some(into_item(input, event, occurred_at, title, None, "id"))
}

/// "Tidak berpotensi tsunami" → false, "Berpotensi tsunami" / "Potensi tsunami ..." → true;
/// text that is not about a tsunami (felt-report notes) → None.
fn bmkg_tsunami(potensi: &str) -> Option<bool> {
    let lower = potensi.to_lowercase();
    if !lower.contains("tsunami") {
        return None;
    }
    Some(!(lower.contains("tidak") || lower.contains("no tsunami")))
}

/// "-7.52,110.44" → (-7.52, 110.44).
fn lat_lon_pair(text: &str) -> Option<(f64, f64)> {
    let (lat, lon) = text.split_once(',')?;
    Some((parse_number(lat)?, parse_number(lon)?))
}

/// "7.52 LS" → -7.52 (`negative` suffix: LS south, BB west), "110.44 BT" → 110.44.
fn hemisphere(text: &str, negative: &str, positive: &str) -> Option<f64> {
    let value = leading_number(text)?;
    let upper = text.to_ascii_uppercase();
    if upper.trim_end().ends_with(negative) {
        Some(-value.abs())
    } else if upper.trim_end().ends_with(positive) {
        Some(value.abs())
    } else {
        Some(value)
    }
}

// ---------------------------------------------------------------------------------------------
// ReliefWeb API v2
// ---------------------------------------------------------------------------------------------

/// ReliefWeb's `{"data": [{"id", "fields": {...}}]}` (reports or disasters).
pub(crate) fn parse_reliefweb(
    input: &ParseInput,
    zone: Tz,
) -> Result<Vec<NormalizedItem>, ParseError> {
    let root = json(input)?;
    let records: Vec<&Value> = match root.get("data") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(Value::Null) => Vec::new(),
        Some(other) => return Err(shape(input, format!("`data` is a {}", type_name(other)))),
        None => return Err(shape(input, "no `data`: not a ReliefWeb API answer")),
    };
    let mut items = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let fields = record.get("fields").unwrap_or(&Value::Null);
        let Some(id) = text(record.get("id")).or_else(|| text(fields.get("id"))) else {
            tracing::warn!(
                raw_key = input.raw_key,
                index,
                "ReliefWeb record without id, skipped"
            );
            continue;
        };
        let names = |key: &str| -> Vec<String> {
            list_of(fields.get(key))
                .filter_map(|v| text(v.get("name")).or_else(|| text(Some(v))))
                .collect()
        };
        let kind = names("disaster_type")
            .iter()
            .map(|n| kind_of_name(n))
            .find(|k| *k != HazardKind::Other)
            .unwrap_or(HazardKind::Other);
        // The primary country first, then the others, each once.
        let countries: Vec<&Value> = fields
            .get("primary_country")
            .into_iter()
            .chain(list_of(fields.get("country")))
            .collect();
        let mut iso3s: Vec<String> = Vec::new();
        let mut country_names: Vec<String> = Vec::new();
        for country in &countries {
            if let Some(code) = text(country.get("iso3")).map(|c| c.to_ascii_uppercase())
                && !iso3s.contains(&code)
            {
                iso3s.push(code);
            }
            if let Some(name) = text(country.get("name"))
                && !country_names.contains(&name)
            {
                country_names.push(name);
            }
        }
        let date = fields.get("date").unwrap_or(&Value::Null);
        let read = |key: &str| {
            text(date.get(key)).and_then(|raw| parse_date(&raw, zone).map(|d| (d.at, raw)))
        };
        let occurred = read("created").or_else(|| read("original"));
        let place = (!country_names.is_empty()).then(|| country_names.join(", "));

        let mut event = blank_event(input, format!("reliefweb:{id}"), kind);
        event.occurred_raw = occurred.as_ref().map(|(_, raw)| raw.clone());
        event.updated_at = read("changed").map(|(at, _)| at);
        event.countries = decide_countries(&iso3s, place.as_deref(), None, None);
        event.place = place;
        event.link = text(fields.get("url"))
            .or_else(|| text(fields.get("url_alias")))
            .and_then(|u| canonical_url(&u));
        let title = text(fields.get("title"))
            .map(|t| normalize_title(&t))
            .unwrap_or_else(|| fallback_title(&event));
        let summary = text(fields.get("body"))
            .map(|b| summarize(&html_to_text(&b), SUMMARY_CHARS))
            .filter(|s| !s.is_empty());
        let language = list_of(fields.get("language"))
            .find_map(|l| text(l.get("code")))
            .and_then(|code| super::primary_language(&code));
        let occurred_at = occurred.map(|(at, _)| at);
        let mut item = into_item(input, event, occurred_at, title, summary, "en");
        if let Some(language) = language {
            item.language = Some(language);
        }
        item.authors = names("source");
        items.push(item);
    }
    Ok(items)
}

/// ReliefWeb's disaster type names ("Flash Flood", "Tropical Cyclone", "Wild Fire", ...).
fn kind_of_name(name: &str) -> HazardKind {
    let lower = name.to_lowercase();
    let has = |w: &str| lower.contains(w);
    if has("earthquake") {
        HazardKind::Earthquake
    } else if has("tsunami") {
        HazardKind::Tsunami
    } else if has("cyclone") || has("typhoon") || has("hurricane") {
        HazardKind::TropicalCyclone
    } else if has("flood") {
        HazardKind::Flood
    } else if has("volcan") {
        HazardKind::Volcano
    } else if has("drought") {
        HazardKind::Drought
    } else if has("fire") {
        HazardKind::Wildfire
    } else {
        HazardKind::Other
    }
}

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/// The countries of an event, each with its basis, in the order the module note gives.
fn decide_countries(
    iso3s: &[String],
    feed_names: Option<&str>,
    point: Option<(f64, f64)>,
    place_name: Option<&str>,
) -> Vec<HazardCountry> {
    let mut countries: Vec<HazardCountry> = Vec::new();
    fn add(countries: &mut Vec<HazardCountry>, code: &str, basis: CountryBasis) {
        if !countries.iter().any(|c| c.code == code) {
            countries.push(HazardCountry {
                code: code.to_owned(),
                basis,
            });
        }
    }
    for iso3 in iso3s {
        match geo::alpha2_of_iso3(iso3) {
            Some(code) => add(
                &mut countries,
                code,
                CountryBasis::FeedIso3 { iso3: iso3.clone() },
            ),
            None => tracing::debug!(iso3, "not an ISO 3166-1 alpha-3 code"),
        }
    }
    if !countries.is_empty() {
        return countries;
    }
    if let Some(names) = feed_names {
        let name = names.trim().to_owned();
        for code in geo::alpha2s_of_names(names) {
            add(
                &mut countries,
                code,
                CountryBasis::FeedName { name: name.clone() },
            );
        }
        if !countries.is_empty() {
            return countries;
        }
    }
    let located = point.map_or(Located::Nowhere, |(lat, lon)| geo::locate(lat, lon));
    if let Located::Inside(codes) = &located {
        for code in codes {
            add(&mut countries, code, CountryBasis::Coordinates);
        }
        return countries;
    }
    if let Some(name) = place_name
        && let Some(code) = geo::alpha2_of_name(name)
    {
        let name = name.trim().to_owned();
        add(&mut countries, code, CountryBasis::FeedName { name });
        return countries;
    }
    if let Located::Near { codes, km } = located {
        for code in &codes {
            add(&mut countries, code, CountryBasis::NearCoordinates { km });
        }
    }
    countries
}

/// An event with the fetch's facts filled in and the feed's left empty.
fn blank_event(input: &ParseInput, event_id: String, kind: HazardKind) -> HazardEvent {
    let meta = input.meta;
    HazardEvent {
        event_id,
        episode_id: None,
        kind,
        magnitude: None,
        magnitude_type: None,
        alert: None,
        severity: None,
        occurred_at: meta.fetched_at,
        occurred_raw: None,
        updated_at: None,
        ended_at: None,
        latitude: None,
        longitude: None,
        depth_km: None,
        place: None,
        countries: Vec::new(),
        link: None,
        felt_reports: None,
        felt: None,
        tsunami: None,
        mission: meta.mission.clone(),
        source: meta.source.clone(),
        fetched_at: meta.fetched_at,
        raw_key: input.raw_key.to_owned(),
    }
}

/// The item an event becomes. A missing time falls back to the fetch time and says so.
fn into_item(
    input: &ParseInput,
    mut event: HazardEvent,
    occurred_at: Option<DateTime<Utc>>,
    title: String,
    summary: Option<String>,
    feed_language: &str,
) -> NormalizedItem {
    let mut item = new_item(input, title);
    item.role = Role::Hazard;
    if let Some(at) = occurred_at {
        event.occurred_at = at;
        item.published_at = at;
        item.time_basis = TimeBasis::Stated;
    }
    item.published_raw = event.occurred_raw.clone();
    item.guid = Some(event.event_id.clone());
    item.url = event.link.clone();
    item.summary = summary;
    item.body = Some(describe(&event));
    item.language = input
        .source_language
        .map(str::to_owned)
        .or_else(|| Some(feed_language.to_owned()));
    item.categories = vec![kind_name(event.kind).to_owned()];
    item.hazard = Some(event);
    item
}

/// The body text of a hazard item: magnitude, depth, alert, severity and place.
fn describe(event: &HazardEvent) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut headline = kind_label(event.kind).to_owned();
    if let Some(m) = event.magnitude {
        headline.push_str(&format!(" M {m:.1}"));
        if let Some(t) = &event.magnitude_type {
            headline.push_str(&format!(" ({t})"));
        }
    }
    parts.push(headline);
    if let Some(d) = event.depth_km {
        parts.push(format!("depth {d:.0} km"));
    }
    if let Some(place) = &event.place {
        parts.push(place.clone());
    }
    if let Some(alert) = event.alert {
        parts.push(format!("alert {}", alert_name(alert)));
    }
    if let Some(severity) = &event.severity {
        parts.push(severity.clone());
    }
    if event.tsunami == Some(true) {
        parts.push("tsunami flagged".into());
    }
    if let Some(felt) = &event.felt {
        parts.push(format!("felt: {felt}"));
    }
    parts.join("; ")
}

fn fallback_title(event: &HazardEvent) -> String {
    let mut title = kind_label(event.kind).to_owned();
    if let Some(m) = event.magnitude {
        title.push_str(&format!(" M {m:.1}"));
    }
    match &event.place {
        Some(place) => format!("{title} - {place}"),
        None => format!("{title} {}", event.event_id),
    }
}

fn kind_label(kind: HazardKind) -> &'static str {
    match kind {
        HazardKind::Earthquake => "Earthquake",
        HazardKind::Tsunami => "Tsunami",
        HazardKind::TropicalCyclone => "Tropical cyclone",
        HazardKind::Flood => "Flood",
        HazardKind::Volcano => "Volcano",
        HazardKind::Drought => "Drought",
        HazardKind::Wildfire => "Wildfire",
        HazardKind::Other => "Hazard",
    }
}

/// The serialized name (`tropical_cyclone`), used as the item's category.
fn kind_name(kind: HazardKind) -> &'static str {
    match kind {
        HazardKind::Earthquake => "earthquake",
        HazardKind::Tsunami => "tsunami",
        HazardKind::TropicalCyclone => "tropical_cyclone",
        HazardKind::Flood => "flood",
        HazardKind::Volcano => "volcano",
        HazardKind::Drought => "drought",
        HazardKind::Wildfire => "wildfire",
        HazardKind::Other => "other",
    }
}

fn alert_name(alert: AlertLevel) -> &'static str {
    match alert {
        AlertLevel::Green => "green",
        AlertLevel::Yellow => "yellow",
        AlertLevel::Orange => "orange",
        AlertLevel::Red => "red",
    }
}

fn json(input: &ParseInput) -> Result<Value, ParseError> {
    let body = input
        .body
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(input.body);
    serde_json::from_slice(body).map_err(|e| ParseError::NotJson {
        raw_key: input.raw_key.to_owned(),
        reason: e.to_string(),
    })
}

fn shape(input: &ParseInput, reason: impl Into<String>) -> ParseError {
    ParseError::UnexpectedShape {
        raw_key: input.raw_key.to_owned(),
        reason: reason.into(),
    }
}

fn not_a_feed(input: &ParseInput, reason: String) -> ParseError {
    ParseError::NotAFeed {
        raw_key: input.raw_key.to_owned(),
        reason,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A string or number as trimmed text; None when absent, null or blank.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

/// 1/0, true/false, "1"/"0".
fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        other => number(other).map(|n| n != 0.0),
    }
}

/// An array's elements, or a lone object as one.
fn list_of(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    let slice: &[Value] = match value {
        Some(Value::Array(list)) => list,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        _ => &[],
    };
    slice.iter()
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The number a text starts with ("10 km" → 10, "7.52 LS" → 7.52).
fn leading_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    parse_number(&text[..end])
}

fn from_epoch_ms(ms: f64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms as i64).single()
}

fn point(latitude: Option<f64>, longitude: Option<f64>) -> Option<(f64, f64)> {
    Some((latitude?, longitude?))
}

/// "50 km E of Miyako, Japan" → "Japan"; text without a comma whole.
fn after_last_comma(place: &str) -> &str {
    place.rsplit(',').next().unwrap_or(place).trim()
}

/// "JPN, PHL" / "JPN;PHL" → ["JPN", "PHL"].
fn split_list(text: &str) -> Vec<String> {
    text.split([',', ';', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

#[cfg(test)]
mod tests;
