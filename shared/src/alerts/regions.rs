//! World regions for alert rules and storm grouping, derived from ISO 3166-1 alpha-2 codes.
//!
//! The grouping follows how the ministry's directorates split the world (Asia-Pacific and
//! Africa, America and Europe, the Middle East), a little finer so a storm message stays about
//! one neighbourhood. Codes not listed fall in `other`.

/// A region's id, as rules and messages name it.
pub const REGIONS: &[&str] = &[
    "southeast_asia",
    "east_asia",
    "south_asia",
    "central_asia",
    "oceania",
    "middle_east",
    "africa",
    "europe",
    "americas",
    "other",
];

const SOUTHEAST_ASIA: &[&str] = &[
    "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "TL", "VN",
];
const EAST_ASIA: &[&str] = &["CN", "HK", "JP", "KP", "KR", "MN", "MO", "TW"];
const SOUTH_ASIA: &[&str] = &["AF", "BD", "BT", "IN", "LK", "MV", "NP", "PK"];
const CENTRAL_ASIA: &[&str] = &["KZ", "KG", "TJ", "TM", "UZ", "AZ", "AM", "GE"];
const OCEANIA: &[&str] = &[
    "AU", "NZ", "PG", "FJ", "SB", "VU", "NC", "WS", "TO", "KI", "NR", "TV", "FM", "MH", "PW",
];
const MIDDLE_EAST: &[&str] = &[
    "AE", "BH", "IQ", "IR", "IL", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "TR", "YE", "EG",
];
const AMERICAS: &[&str] = &[
    "US", "CA", "MX", "GT", "BZ", "SV", "HN", "NI", "CR", "PA", "CU", "JM", "HT", "DO", "TT", "BS",
    "BB", "SR", "GY", "VE", "CO", "EC", "PE", "BO", "BR", "PY", "UY", "AR", "CL",
];
const EUROPE: &[&str] = &[
    "AL", "AD", "AT", "BY", "BE", "BA", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR",
    "HU", "IS", "IE", "IT", "XK", "LV", "LI", "LT", "LU", "MT", "MD", "MC", "ME", "NL", "MK", "NO",
    "PL", "PT", "RO", "RU", "SM", "RS", "SK", "SI", "ES", "SE", "CH", "UA", "GB", "VA",
];
const AFRICA: &[&str] = &[
    "DZ", "AO", "BJ", "BW", "BF", "BI", "CV", "CM", "CF", "TD", "KM", "CG", "CD", "CI", "DJ", "GQ",
    "ER", "SZ", "ET", "GA", "GM", "GH", "GN", "GW", "KE", "LS", "LR", "LY", "MG", "MW", "ML", "MR",
    "MU", "MA", "MZ", "NA", "NE", "NG", "RW", "ST", "SN", "SC", "SL", "SO", "ZA", "SS", "SD", "TZ",
    "TG", "TN", "UG", "ZM", "ZW",
];

/// The region of a country code (either case); `other` for codes not listed.
pub fn region_of(country_code: &str) -> &'static str {
    let cc = country_code.to_ascii_uppercase();
    let tables: [(&str, &[&str]); 9] = [
        ("southeast_asia", SOUTHEAST_ASIA),
        ("east_asia", EAST_ASIA),
        ("south_asia", SOUTH_ASIA),
        ("central_asia", CENTRAL_ASIA),
        ("oceania", OCEANIA),
        ("middle_east", MIDDLE_EAST),
        ("africa", AFRICA),
        ("europe", EUROPE),
        ("americas", AMERICAS),
    ];
    tables
        .iter()
        .find(|(_, codes)| codes.contains(&cc.as_str()))
        .map_or("other", |(region, _)| region)
}

/// A region's name in Indonesian and in English.
pub fn region_names(region: &str) -> (&'static str, &'static str) {
    match region {
        "southeast_asia" => ("Asia Tenggara", "Southeast Asia"),
        "east_asia" => ("Asia Timur", "East Asia"),
        "south_asia" => ("Asia Selatan", "South Asia"),
        "central_asia" => ("Asia Tengah dan Kaukasus", "Central Asia and the Caucasus"),
        "oceania" => ("Oseania", "Oceania"),
        "middle_east" => ("Timur Tengah", "Middle East"),
        "africa" => ("Afrika", "Africa"),
        "europe" => ("Eropa", "Europe"),
        "americas" => ("Amerika", "the Americas"),
        _ => ("wilayah lain", "other regions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_country_has_a_named_region() {
        let registry = crate::registry::Registry::load_default().unwrap();
        let unplaced: Vec<&str> = registry
            .missions
            .iter()
            .map(|m| m.country_code.as_str())
            .filter(|cc| region_of(cc) == "other")
            .collect();
        assert!(
            unplaced.is_empty(),
            "countries without a region: {unplaced:?}"
        );
        assert_eq!(region_of("tr"), "middle_east");
        assert_eq!(region_of("JP"), "east_asia");
        assert_eq!(region_of("ZZ"), "other");
        for r in REGIONS {
            assert!(!region_names(r).0.is_empty());
        }
    }
}
