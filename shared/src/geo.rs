//! Countries of hazard events: ISO codes feeds give (alpha-3 → alpha-2), country names, and
//! coordinates looked up offline in country boundaries.
//!
//! The boundaries are the `country-boundaries` crate's ODbL data (© OpenStreetMap
//! contributors, via JOSM), a 360×180 raster of cells holding polygons, shipped inside the
//! crate: no file, no network. Outlines are coarse where that is cheap: Japan's, for one,
//! takes in its coastal waters, so a quake 50 km off Iwate is "inside". A point at sea is in
//! no country; [`locate`] then probes
//! rings around it (up to [`NEAR_MAX_KM`]) so an earthquake just off a coast still names the
//! coast's country, and says how far it looked.

use std::sync::OnceLock;

use country_boundaries::{BOUNDARIES_ODBL_360X180, CountryBoundaries, LatLon};

use crate::places::{NameKind, PlaceReason, places_in_text};

/// The farthest ring [`locate`] probes around a point at sea.
pub const NEAR_MAX_KM: u32 = 100;
/// Ring radii, nearest first: the first ring that touches land decides.
const NEAR_RINGS_KM: [u32; 4] = [10, 25, 50, NEAR_MAX_KM];
/// Bearings probed on each ring.
const NEAR_BEARINGS: usize = 16;
const EARTH_RADIUS_KM: f64 = 6371.0;

/// Where a point lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Inside these countries' boundaries (ISO 3166-1 alpha-2; usually one).
    Inside(Vec<String>),
    /// At sea; these countries' land is within `km`.
    Near { codes: Vec<String>, km: u32 },
    /// At sea with no land within [`NEAR_MAX_KM`], or coordinates that are not a place.
    Nowhere,
}

fn boundaries() -> Option<&'static CountryBoundaries> {
    static BOUNDARIES: OnceLock<Option<CountryBoundaries>> = OnceLock::new();
    BOUNDARIES
        .get_or_init(
            || match CountryBoundaries::from_reader(BOUNDARIES_ODBL_360X180) {
                Ok(b) => Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "country boundaries data did not load");
                    None
                }
            },
        )
        .as_ref()
}

/// The countries (alpha-2) whose boundary contains the point; subdivisions (`US-TX`) are
/// left out. Empty at sea and for coordinates that are not a place.
pub fn countries_at(latitude: f64, longitude: f64) -> Vec<String> {
    let (Some(boundaries), Ok(position)) = (boundaries(), LatLon::new(latitude, longitude)) else {
        return Vec::new();
    };
    boundaries
        .ids(position)
        .into_iter()
        .filter(|id| id.len() == 2 && id.bytes().all(|b| b.is_ascii_uppercase()))
        .map(str::to_owned)
        .collect()
}

/// Where a point lies: inside a country, near one's coast, or nowhere.
pub fn locate(latitude: f64, longitude: f64) -> Located {
    if !latitude.is_finite() || !longitude.is_finite() || latitude.abs() > 90.0 {
        return Located::Nowhere;
    }
    let inside = countries_at(latitude, longitude);
    if !inside.is_empty() {
        return Located::Inside(inside);
    }
    for km in NEAR_RINGS_KM {
        let mut codes: Vec<String> = Vec::new();
        for step in 0..NEAR_BEARINGS {
            let bearing = (step as f64) * 360.0 / NEAR_BEARINGS as f64;
            let (lat, lon) = destination(latitude, longitude, bearing, km as f64);
            for code in countries_at(lat, lon) {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        if !codes.is_empty() {
            return Located::Near { codes, km };
        }
    }
    Located::Nowhere
}

/// The point `km` away from (lat, lon) along `bearing` degrees, on a sphere; longitude
/// wrapped to [-180, 180].
fn destination(latitude: f64, longitude: f64, bearing: f64, km: f64) -> (f64, f64) {
    let (lat1, lon1, theta) = (
        latitude.to_radians(),
        longitude.to_radians(),
        bearing.to_radians(),
    );
    let delta = km / EARTH_RADIUS_KM;
    let lat2 = (lat1.sin() * delta.cos() + lat1.cos() * delta.sin() * theta.cos()).asin();
    let lon2 = lon1
        + (theta.sin() * delta.sin() * lat1.cos()).atan2(delta.cos() - lat1.sin() * lat2.sin());
    let lon = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    (lat2.to_degrees().clamp(-90.0, 90.0), lon)
}

/// The alpha-2 code of an ISO 3166-1 alpha-3 code (any case); None when it is not one.
pub fn alpha2_of_iso3(iso3: &str) -> Option<&'static str> {
    let iso3 = iso3.trim().to_ascii_uppercase();
    ISO3_TO_ALPHA2
        .binary_search_by(|(a3, _)| (*a3).cmp(iso3.as_str()))
        .ok()
        .map(|i| ISO3_TO_ALPHA2[i].1)
}

/// The country a name names (`Japan`, `Viet Nam`, `Jepang`), by the places lexicon (every
/// country with an Indonesian mission); None for anything else.
pub fn alpha2_of_name(name: &str) -> Option<&'static str> {
    alpha2s_of_names(name).into_iter().next()
}

/// Every country named in a list of names (`Philippines, Viet Nam`), in list order, each
/// once. Cities and demonyms do not count: a feed's country field names countries.
pub fn alpha2s_of_names(names: &str) -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = Vec::new();
    for part in names.split([',', ';', '/']) {
        // The places lexicon never matches Indonesia (every item mentions it); a hazard
        // feed naming it means it.
        let indonesia = crate::lexicon::words(part)
            .iter()
            .any(|w| w == "indonesia")
            .then_some("ID");
        let named = places_in_text(part, "")
            .into_iter()
            .filter(|place| {
                place.reasons.iter().any(|r| {
                    matches!(
                        r,
                        PlaceReason::Text {
                            kind: NameKind::Country,
                            ..
                        }
                    )
                })
            })
            .filter_map(|place| static_code(&place.country_code));
        for code in indonesia.into_iter().chain(named) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes
}

/// The table's copy of an alpha-2 code, so callers get `&'static str` whatever the source.
fn static_code(code: &str) -> Option<&'static str> {
    ISO3_TO_ALPHA2
        .iter()
        .map(|(_, a2)| *a2)
        .find(|a2| *a2 == code)
}

/// ISO 3166-1 alpha-3 → alpha-2 for every assigned code (from Debian's iso-codes), plus
/// Kosovo's user-assigned `XKX` → `XK` that GDACS and ReliefWeb use. Sorted by alpha-3.
#[rustfmt::skip]
const ISO3_TO_ALPHA2: &[(&str, &str)] = &[
    ("ABW", "AW"), ("AFG", "AF"), ("AGO", "AO"), ("AIA", "AI"), ("ALA", "AX"), ("ALB", "AL"),
    ("AND", "AD"), ("ARE", "AE"), ("ARG", "AR"), ("ARM", "AM"), ("ASM", "AS"), ("ATA", "AQ"),
    ("ATF", "TF"), ("ATG", "AG"), ("AUS", "AU"), ("AUT", "AT"), ("AZE", "AZ"), ("BDI", "BI"),
    ("BEL", "BE"), ("BEN", "BJ"), ("BES", "BQ"), ("BFA", "BF"), ("BGD", "BD"), ("BGR", "BG"),
    ("BHR", "BH"), ("BHS", "BS"), ("BIH", "BA"), ("BLM", "BL"), ("BLR", "BY"), ("BLZ", "BZ"),
    ("BMU", "BM"), ("BOL", "BO"), ("BRA", "BR"), ("BRB", "BB"), ("BRN", "BN"), ("BTN", "BT"),
    ("BVT", "BV"), ("BWA", "BW"), ("CAF", "CF"), ("CAN", "CA"), ("CCK", "CC"), ("CHE", "CH"),
    ("CHL", "CL"), ("CHN", "CN"), ("CIV", "CI"), ("CMR", "CM"), ("COD", "CD"), ("COG", "CG"),
    ("COK", "CK"), ("COL", "CO"), ("COM", "KM"), ("CPV", "CV"), ("CRI", "CR"), ("CUB", "CU"),
    ("CUW", "CW"), ("CXR", "CX"), ("CYM", "KY"), ("CYP", "CY"), ("CZE", "CZ"), ("DEU", "DE"),
    ("DJI", "DJ"), ("DMA", "DM"), ("DNK", "DK"), ("DOM", "DO"), ("DZA", "DZ"), ("ECU", "EC"),
    ("EGY", "EG"), ("ERI", "ER"), ("ESH", "EH"), ("ESP", "ES"), ("EST", "EE"), ("ETH", "ET"),
    ("FIN", "FI"), ("FJI", "FJ"), ("FLK", "FK"), ("FRA", "FR"), ("FRO", "FO"), ("FSM", "FM"),
    ("GAB", "GA"), ("GBR", "GB"), ("GEO", "GE"), ("GGY", "GG"), ("GHA", "GH"), ("GIB", "GI"),
    ("GIN", "GN"), ("GLP", "GP"), ("GMB", "GM"), ("GNB", "GW"), ("GNQ", "GQ"), ("GRC", "GR"),
    ("GRD", "GD"), ("GRL", "GL"), ("GTM", "GT"), ("GUF", "GF"), ("GUM", "GU"), ("GUY", "GY"),
    ("HKG", "HK"), ("HMD", "HM"), ("HND", "HN"), ("HRV", "HR"), ("HTI", "HT"), ("HUN", "HU"),
    ("IDN", "ID"), ("IMN", "IM"), ("IND", "IN"), ("IOT", "IO"), ("IRL", "IE"), ("IRN", "IR"),
    ("IRQ", "IQ"), ("ISL", "IS"), ("ISR", "IL"), ("ITA", "IT"), ("JAM", "JM"), ("JEY", "JE"),
    ("JOR", "JO"), ("JPN", "JP"), ("KAZ", "KZ"), ("KEN", "KE"), ("KGZ", "KG"), ("KHM", "KH"),
    ("KIR", "KI"), ("KNA", "KN"), ("KOR", "KR"), ("KWT", "KW"), ("LAO", "LA"), ("LBN", "LB"),
    ("LBR", "LR"), ("LBY", "LY"), ("LCA", "LC"), ("LIE", "LI"), ("LKA", "LK"), ("LSO", "LS"),
    ("LTU", "LT"), ("LUX", "LU"), ("LVA", "LV"), ("MAC", "MO"), ("MAF", "MF"), ("MAR", "MA"),
    ("MCO", "MC"), ("MDA", "MD"), ("MDG", "MG"), ("MDV", "MV"), ("MEX", "MX"), ("MHL", "MH"),
    ("MKD", "MK"), ("MLI", "ML"), ("MLT", "MT"), ("MMR", "MM"), ("MNE", "ME"), ("MNG", "MN"),
    ("MNP", "MP"), ("MOZ", "MZ"), ("MRT", "MR"), ("MSR", "MS"), ("MTQ", "MQ"), ("MUS", "MU"),
    ("MWI", "MW"), ("MYS", "MY"), ("MYT", "YT"), ("NAM", "NA"), ("NCL", "NC"), ("NER", "NE"),
    ("NFK", "NF"), ("NGA", "NG"), ("NIC", "NI"), ("NIU", "NU"), ("NLD", "NL"), ("NOR", "NO"),
    ("NPL", "NP"), ("NRU", "NR"), ("NZL", "NZ"), ("OMN", "OM"), ("PAK", "PK"), ("PAN", "PA"),
    ("PCN", "PN"), ("PER", "PE"), ("PHL", "PH"), ("PLW", "PW"), ("PNG", "PG"), ("POL", "PL"),
    ("PRI", "PR"), ("PRK", "KP"), ("PRT", "PT"), ("PRY", "PY"), ("PSE", "PS"), ("PYF", "PF"),
    ("QAT", "QA"), ("REU", "RE"), ("ROU", "RO"), ("RUS", "RU"), ("RWA", "RW"), ("SAU", "SA"),
    ("SDN", "SD"), ("SEN", "SN"), ("SGP", "SG"), ("SGS", "GS"), ("SHN", "SH"), ("SJM", "SJ"),
    ("SLB", "SB"), ("SLE", "SL"), ("SLV", "SV"), ("SMR", "SM"), ("SOM", "SO"), ("SPM", "PM"),
    ("SRB", "RS"), ("SSD", "SS"), ("STP", "ST"), ("SUR", "SR"), ("SVK", "SK"), ("SVN", "SI"),
    ("SWE", "SE"), ("SWZ", "SZ"), ("SXM", "SX"), ("SYC", "SC"), ("SYR", "SY"), ("TCA", "TC"),
    ("TCD", "TD"), ("TGO", "TG"), ("THA", "TH"), ("TJK", "TJ"), ("TKL", "TK"), ("TKM", "TM"),
    ("TLS", "TL"), ("TON", "TO"), ("TTO", "TT"), ("TUN", "TN"), ("TUR", "TR"), ("TUV", "TV"),
    ("TWN", "TW"), ("TZA", "TZ"), ("UGA", "UG"), ("UKR", "UA"), ("UMI", "UM"), ("URY", "UY"),
    ("USA", "US"), ("UZB", "UZ"), ("VAT", "VA"), ("VCT", "VC"), ("VEN", "VE"), ("VGB", "VG"),
    ("VIR", "VI"), ("VNM", "VN"), ("VUT", "VU"), ("WLF", "WF"), ("WSM", "WS"), ("XKX", "XK"),
    ("YEM", "YE"), ("ZAF", "ZA"), ("ZMB", "ZM"), ("ZWE", "ZW"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso3_table_is_sorted_complete_and_maps_codes() {
        assert!(ISO3_TO_ALPHA2.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(ISO3_TO_ALPHA2.len(), 250);
        assert_eq!(alpha2_of_iso3("JPN"), Some("JP"));
        assert_eq!(alpha2_of_iso3(" tur "), Some("TR"));
        assert_eq!(alpha2_of_iso3("IDN"), Some("ID"));
        assert_eq!(alpha2_of_iso3("XKX"), Some("XK"));
        assert_eq!(alpha2_of_iso3("ZZZ"), None);
        assert_eq!(alpha2_of_iso3(""), None);
    }

    #[test]
    fn names_map_through_the_places_lexicon() {
        assert_eq!(alpha2_of_name("Japan"), Some("JP"));
        assert_eq!(alpha2_of_name("Viet Nam"), Some("VN"));
        assert_eq!(alpha2_of_name("Philippines"), Some("PH"));
        assert_eq!(alpha2_of_name("Atlantis"), None);
        assert_eq!(alpha2s_of_names("Philippines, Viet Nam"), vec!["PH", "VN"]);
        assert_eq!(alpha2s_of_names("Viet Nam; Philippines"), vec!["VN", "PH"]);
        assert_eq!(alpha2_of_name("Türkiye"), Some("TR"));
        assert_eq!(alpha2_of_name("Indonesia"), Some("ID"));
        assert_eq!(alpha2s_of_names("Timor-Leste, Indonesia"), vec!["TL", "ID"]);
        // A city is not a country name.
        assert_eq!(alpha2s_of_names("Osaka"), Vec::<&str>::new());
    }

    #[test]
    fn points_on_land_sea_and_coast() {
        // Tokyo, Ankara, Yogyakarta, Dallas (a state id is dropped).
        assert_eq!(locate(35.68, 139.76), Located::Inside(vec!["JP".into()]));
        assert_eq!(locate(39.93, 32.86), Located::Inside(vec!["TR".into()]));
        assert_eq!(locate(-7.80, 110.36), Located::Inside(vec!["ID".into()]));
        assert_eq!(countries_at(33.0, -97.0), vec!["US".to_string()]);
        // Mid-Pacific and mid-Atlantic: nothing within 100 km.
        assert_eq!(locate(0.0, -140.0), Located::Nowhere);
        assert_eq!(locate(30.0, -40.0), Located::Nowhere);
        // Japan's outline in the data takes in its coastal waters: off Iwate (the 2011
        // rupture zone, about 50 km out) counts as inside.
        assert_eq!(locate(39.6, 142.5), Located::Inside(vec!["JP".into()]));
        // South of Yogyakarta, at sea: Java's coast within 25 km.
        assert_eq!(
            locate(-8.5, 110.4),
            Located::Near {
                codes: vec!["ID".into()],
                km: 25
            }
        );
        // South of Java, 150 km out: nothing.
        assert_eq!(locate(-9.5, 110.0), Located::Nowhere);
        // Not places.
        assert_eq!(locate(f64::NAN, 0.0), Located::Nowhere);
        assert_eq!(locate(91.0, 0.0), Located::Nowhere);
    }

    #[test]
    fn destination_wraps_the_antimeridian() {
        let (lat, lon) = destination(0.0, 179.9, 90.0, 50.0);
        assert!(
            lat.abs() < 0.01 && (-180.0..-179.0).contains(&lon),
            "{lat} {lon}"
        );
    }
}
