//! ReliefWeb, the one hazard source that needs configuration: its API asks for an approved
//! application name (`appname`), which belongs in the deployment's environment, not in the
//! registry file. The other hazard feeds (USGS, GDACS, BMKG) are plain `[[global_sources]]`
//! in `missions.toml`.

use crate::model::{Role, Source, SourceKind};

/// The environment variable holding the approved ReliefWeb application name.
pub const RELIEFWEB_APPNAME_ENV: &str = "PANTAU_RELIEFWEB_APPNAME";
/// The id of the ReliefWeb source under owner `global`.
pub const RELIEFWEB_SOURCE_ID: &str = "reliefweb";
pub const RELIEFWEB_REPORTS_API: &str = "https://api.reliefweb.int/v2/reports";

/// The latest ReliefWeb reports (`preset=latest` sorts newest first; `profile=list` gives
/// title, date, URL, source and country), hourly.
pub fn reliefweb_source(appname: &str) -> Source {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("appname", appname.trim())
        .append_pair("preset", "latest")
        .append_pair("profile", "list")
        .append_pair("limit", "50")
        .finish();
    Source {
        id: RELIEFWEB_SOURCE_ID.into(),
        kind: SourceKind::Reliefweb,
        role: Role::Hazard,
        url: format!("{RELIEFWEB_REPORTS_API}?{query}"),
        cadence_minutes: 60,
        portal: None,
        section: None,
        language: Some("en".into()),
        time_zone: None,
        conditional_get: true,
        list: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn the_appname_is_encoded_into_the_url() {
        assert!(Url::parse(RELIEFWEB_REPORTS_API).is_ok());
        let source = reliefweb_source(" pantau-kemlu&x ");
        assert_eq!(source.kind, SourceKind::Reliefweb);
        assert_eq!(source.role, Role::Hazard);
        assert_eq!(
            source.url,
            "https://api.reliefweb.int/v2/reports?appname=pantau-kemlu%26x&preset=latest&profile=list&limit=50"
        );
    }
}
