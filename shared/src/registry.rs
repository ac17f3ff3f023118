//! The registry: every mission and the sources Pantau watches for it. (Filled in by the
//! registry work; the shape below is what other modules rely on.)

use crate::model::{Mission, Source};

/// Who a source belongs to when it is no single mission's.
pub const HQ_OWNER: &str = "pusat";
pub const GLOBAL_OWNER: &str = "global";

#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub missions: Vec<Mission>,
    /// Headquarters' own channels (owner `pusat`).
    pub hq_sources: Vec<Source>,
    /// Worldwide feeds fetched once for everyone (owner `global`).
    pub global_sources: Vec<Source>,
}

/// A source with what is needed to fetch and parse it.
#[derive(Debug, Clone, Copy)]
pub struct SourceRef<'a> {
    /// Mission id, `pusat` or `global`.
    pub owner: &'a str,
    pub source: &'a Source,
    /// IANA zone for dates the source gives without one.
    pub time_zone: &'a str,
}

impl Registry {
    pub fn mission(&self, id: &str) -> Option<&Mission> {
        self.missions.iter().find(|m| m.id == id)
    }

    pub fn sources(&self) -> impl Iterator<Item = SourceRef<'_>> {
        let missions = self.missions.iter().flat_map(|m| {
            m.sources.iter().map(move |s| SourceRef {
                owner: &m.id,
                source: s,
                time_zone: s.time_zone.as_deref().unwrap_or(&m.time_zone),
            })
        });
        let hq = self.hq_sources.iter().map(|s| SourceRef {
            owner: HQ_OWNER,
            source: s,
            time_zone: s.time_zone.as_deref().unwrap_or("Asia/Jakarta"),
        });
        let global = self.global_sources.iter().map(|s| SourceRef {
            owner: GLOBAL_OWNER,
            source: s,
            time_zone: s.time_zone.as_deref().unwrap_or("UTC"),
        });
        missions.chain(hq).chain(global)
    }

    pub fn source(&self, owner: &str, source: &str) -> Option<SourceRef<'_>> {
        self.sources()
            .find(|r| r.owner == owner && r.source.id == source)
    }
}
