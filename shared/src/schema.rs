//! The table's access patterns, written down once.
//!
//! One DynamoDB table, generic keys (`pk`, `sk`) and two generic sparse GSIs (`gsi1pk`/`gsi1sk`,
//! `gsi2pk`/`gsi2sk`). Every key Pantau reads or writes is built here, so this file is the map
//! of the table:
//!
//! | record            | pk                    | sk                         | gsi1pk / gsi1sk                       | gsi2pk / gsi2sk                       |
//! |-------------------|-----------------------|----------------------------|---------------------------------------|---------------------------------------|
//! | mission           | `MISSION#{id}`        | `META`                     | `MISSIONS` / `{id}`                   | `COUNTRY#{cc}` / `MISSION#{id}`       |
//! | registry digest   | `REGISTRY`            | `META`                     |                                       |                                       |
//! | source state      | `MISSION#{owner}`     | `SOURCE#{source}`          | `SOURCES` / `{owner}/{source}`        |                                       |
//! | item (current)    | `ITEM#{item_id}`      | `CURRENT`                  | `MITEMS#{mission}` / `{published}#{item_id}` | `CITEMS#{cc}` / `{published}#{item_id}` |
//! | item version      | `ITEM#{item_id}`      | `V#{version_at}#{hash}`    |                                       |                                       |
//! | processed marker  | `DONE#{stage}#{key}`  | `DONE`                     | (TTL: `expires_at`)                   |                                       |
//! | API access key    | `APIKEY#{sha256 hex}` | `KEY`                      | `APIKEYS` / `{created_at}#{key_id}`   |                                       |
//! | API secret        | `SECRET#{name}`       | `SECRET`                   |                                       |                                       |
//! | story band entry  | `STORY_BAND#{band}#{value}` | `{published}#{item_id}` |                                    |                                       |
//! | story title entry | `STORY_TITLE#{hash}`  | `{published}#{item_id}`    |                                       |                                       |
//! | story publication entry | `STORY_PUB#{mission}/{source}/{guid}` | `{published}#{item_id}` |                  |                                       |
//! | story number entry | `STORY_NUM#{digits}` | `{published}#{item_id}`    |                                       |                                       |
//! | story sentence entry | `STORY_SENT#{hash}` | `{published}#{item_id}`   |                                       |                                       |
//! | story name entry  | `STORY_NAME#{name}`   | `{published}#{item_id}`    |                                       |                                       |
//! | story membership  | `STORY#{story_id}`    | `{published}#{item_id}`    |                                       |                                       |
//! | story judging record | `STORY_FP#{item_id}` | `FP`                      |                                       |                                       |
//! | a mission's latest publication of a role | `LATEST#{role}` | `{mission}` (and `~complete`, the marker) |        |                                       |
//! | role index entry  | `MROLE#{mission}#{role}` | `{published}#{item_id}` |                                       |                                       |
//! | daily counts      | `ACTIVITY#{mission}`  | `{yyyy-mm-dd}` (and `~complete`, the marker of both) |          |                                       |
//! | search posting    | `TERM#{stem}#{yyyy-mm}` | `{published}#{item_id}`  | (TTL: `expires_at`)                   |                                       |
//! | crisis            | `CRISIS#{id}`         | `META`                     | `CRISES#{cc}` / `{first_signal}#{id}` | `CRISES` / `{last_signal}#{id}`       |
//! | crisis head       | `CRISIS_HEAD#{cc}#{group}` | `HEAD`                |                                       |                                       |
//! | crisis event (old) | `CRISIS_EVENT#{event_id}` | `EVENT`                |                                       |                                       |
//! | crisis signal entry | `CSIG#{cc}`         | `{signal_at}#{item_id}`    |                                       |                                       |
//! | alert rule        | `ALERT_RULE#{id}`     | `RULE`                     | `ALERT_RULES` / `{created_at}#{id}`   |                                       |
//! | alert state       | `ALERT_STATE#{rule}`  | `SUBJECT#{subject}`        |                                       |                                       |
//! | alert message     | `ALERT_MSG#{id}`      | `MSG`                      | `ALERTS` / `{created_at}#{id}`        |                                       |
//! | alert delivery    | `ALERT_MSG#{id}`      | `DELIVERY#{channel}`       |                                       | `ALERT_PENDING` / `{next_attempt_at}#{id}#{channel}` (only while pending) |
//! | hq record         | `HQREC#{id}`          | `META`                     | `HQM#{mission}` / `{date}#{id}`       | `HQC#{cc}` / `{date}#{id}`            |
//! | hq file imported  | `DONE#hq#{key}`       | `DONE`                     |                                       |                                       |
//!
//! Story entries (see `crate::stories`) are bare index records: an item is written under each
//! of its candidate keys (4 SimHash bands, `{band}` 0–3 and `{value}` 4 hex digits; the first
//! 16 hex digits of the SHA-256 of its title key; its portal publication; up to 6 numbers; its 4
//! longest names; its 4 longest sentences) as `{key}` / `{published}#{item_id}` and nothing
//! else, so a new item's candidates are at most 20 queries. Their fingerprints are read from
//! their judging records (`STORY_FP#{item_id}` / `FP`: `item_id`, `content_hash`, `fingerprint`
//! as JSON without its word-pair hashes, and those hashes as `shingles`, base64 of 8 bytes each,
//! little-endian; written with the entries), one batch get per 100, and only the linked ones'
//! `CURRENT`, for their story (an item grouped before judging records existed is judged from its
//! `CURRENT`, as its judging record would say). A membership holds `item_id`,
//! `story_id`, `published`, `title`, `mission`, `source`, `language`, `reason` (the
//! `stories::LinkReason` that linked it, null for the story's first item) and `linked_to`. A
//! story id is an item id: the smallest of the group (see `crate::reconcile::story`);
//! `CURRENT` carries it as `story_id` once grouped, and `story_merging` while a merge it
//! started is unfinished.
//!
//! Role index entries and daily counts (see `crate::reconcile::rollup`) change in the
//! transaction that writes the item's `CURRENT`, so they are exact under redelivery, races and
//! crashes. The role index is a table of bare pointers, not a third key on `CURRENT`: both GSIs
//! of the item record are taken (`MITEMS#`, `CITEMS#`), a third GSI would copy every item
//! record whole (DynamoDB projects per index, and the API reads whole items), while a pointer is
//! ~60 bytes and its page of `CURRENT`s is one batch get. A counter record holds `official`,
//! `hq`, `media`, `hazard` (numbers; absent is 0); `CURRENT` holds `indexed: true` once it is
//! counted.
//!
//! `{published}` is RFC 3339 UTC with fixed width (`2025-01-02T03:04:05.000Z`), so byte order is
//! time order and a mission's items newest-first are one backward query on GSI1.
//! `{version_at}` is the fetch time of the first fetch that showed a version's content.
//! Nothing is ever written at `HEALTH`/`HEALTH`: the API's health check reads it.
//!
//! Item records (both kinds) carry the `NormalizedItem` fields plus `item_id`, `version_at`,
//! `content_hash`, and the version's enrichment (`crate::enrich`): `topics` (tag ids), `crisis`,
//! `places` (country codes), `accredited_missions`; `CURRENT` adds `enrichment` (the whole, as JSON, without the fingerprint's word-pair hashes; version records do not repeat it), `versions` (count), `first_seen_at` and `state_tag` (the
//! optimistic lock every `CURRENT` write is conditioned on). See `crate::reconcile`.
//!
//! Access patterns:
//!
//! | question                                   | operation                                                        | owner |
//! |--------------------------------------------|------------------------------------------------------------------|-------|
//! | an item's current state (reconcile)        | get `ITEM#{id}` / `CURRENT`                                      | reconcile |
//! | an item's versions (late deliveries)       | query `ITEM#{id}`, sk begins_with `V#`                           | reconcile |
//! | an item with its history (API)             | query `ITEM#{id}`, all, backward (versions newest first, then `CURRENT`) | reconcile::read |
//! | a mission's items, newest first, in a time window | query GSI1 `MITEMS#{mission}`, backward, sk between `{since}` and `{until}$` | reconcile::read |
//! | a mission's items of one role, newest first | query `MROLE#{mission}#{role}`, backward, sk between `{since}` and `{until}$`; batch get their `CURRENT` (once `ACTIVITY#{mission}` / `~complete` is there; else the row above, filtered) | reconcile::rollup |
//! | a mission's items per day and role         | query `ACTIVITY#{mission}`, sk between `{first day}` and `~complete` (the marker; without it, the time index over the window) | reconcile::rollup |
//! | a country's items, newest first            | query GSI2 `CITEMS#{cc}`, backward, sk between `{since}` and `{until}$` | reconcile::read |
//! | every mission                              | query GSI1 `MISSIONS`                                            | reconcile::read |
//! | were these mission records written already | get `REGISTRY` / `META` (`digest`: SHA-256 of the records)       | reconcile (sync_registry) |
//! | a country's missions                       | the registry (GSI2 `COUNTRY#{cc}` holds the same records)        | api |
//! | one owner's source states                  | query `MISSION#{owner}`, sk begins_with `SOURCE#`                | reconcile::read |
//! | every source state                         | query GSI1 `SOURCES`                                             | reconcile::read |
//! | a mission's last official publication      | query GSI1 `MITEMS#{mission}` backward until the first `official` item | reconcile::read |
//! | every mission's last official publication  | query `LATEST#official` (trusted once `~complete` is there; else the row above per mission) | reconcile::latest |
//! | an item's story candidates in a window     | query each of its `STORY_BAND#…`, `STORY_TITLE#…`, `STORY_PUB#…`, `STORY_NUM#…`, `STORY_NAME#…`, `STORY_SENT#…` keys, sk between `{published-7d}` and `{published+7d}$`, at most 200 each | reconcile::story |
//! | the candidates' fingerprints               | batch get `STORY_FP#{item_id}` / `FP` (a candidate without one: its `CURRENT`); the linked ones' `CURRENT` for their story | reconcile::story |
//! | a story's members, newest first            | query `STORY#{story_id}`, backward                               | reconcile::read |
//! | a story's members, to merge it into another | query `STORY#{story_id}`, at most 100                           | reconcile::story |
//! | items holding a word, newest first (search) | query `TERM#{stem}#{month}` backward per month of the window, sk between `{since}` and `{until}$`; get each hit's `CURRENT` | search |
//! | is the table up                            | get `HEALTH` / `HEALTH`                                          | api |
//! | is this API key valid (every request)      | get `APIKEY#{sha256 of the key}` / `KEY`                         | api::access |
//! | every API key (`pantau keys list/revoke`)  | query GSI1 `APIKEYS`                                             | api::access |
//! | the cursor-signing key when not configured | get `SECRET#cursor-key` / `SECRET` (created once, put if absent) | api::cursor |
//!
//! Crisis records (see `crate::crises`) hold the `crises::Crisis` (responses included, with
//! `signal_count` and its evidence whole, or for a long crisis a bounded sample:
//! `Crisis::stored`) and `rev`, a digest of that content: the optimistic lock of every write. A head
//! record, one per country and kind group, holds `digest` (the XOR of its signal entries'
//! digests, the lock every crisis decision of the group is conditioned on) and `crises` (the
//! group's crises: id, first and last signal); a signal entry is one crisis-tagged media item
//! or hazard event (`crises::Evidence` plus `group`), recorded whether or not a crisis is open,
//! so a chain of signals is one range query. Event records (`CRISIS_EVENT#…`) are no longer
//! written (a hazard event's signals fall in its crisis by their times); older ones are unread.
//!
//! | question                                   | operation                                                        | owner |
//! |--------------------------------------------|------------------------------------------------------------------|-------|
//! | a crisis with evidence and responses       | get `CRISIS#{id}` / `META`; a long crisis's evidence: query `CSIG#{cc}`, sk between `{first_signal}` and `{last_signal}~` | crises |
//! | a country's crises, newest first           | query GSI1 `CRISES#{cc}`, backward                               | crises |
//! | the crises an official item may answer     | query GSI1 `CRISES#{cc}`, backward, sk <= `{published+tolerance}~`, at most 20 | crises::responses |
//! | active crises (the crisis board)           | query GSI2 `CRISES`, backward, sk > `{now-quiet period}`         | crises |
//! | the crises of a group, and its lock         | get `CRISIS_HEAD#{cc}#{group}` / `HEAD`                          | crises::detect |
//! | the chain of signals around a time         | query `CSIG#{cc}`, sk between `{t-2 quiet}` and `{t+2 quiet}~` (wider until a quiet gap bounds it) | crises::detect |
//! | a new crisis's earlier responses           | query GSI1 `MITEMS#{mission}`, sk >= `{first_signal-tolerance}`, per mission of the country | crises::responses |
//!
//! Alert records (see `crate::alerts`): a rule holds the whole `alerts::Rule`; a state is one
//! condition of one rule for one subject (a crisis, a mission, a source), written with a
//! condition on its `rev` so it fires once however many evaluators race; a message is what was
//! said (both languages, links, evidence) and each of its deliveries, one per channel, is
//! pending (in GSI2) until a conditional write marks it delivered.
//!
//! | question                                   | operation                                                        | owner |
//! |--------------------------------------------|------------------------------------------------------------------|-------|
//! | every alert rule                           | query GSI1 `ALERT_RULES`                                         | alerts::rules |
//! | one rule                                   | get `ALERT_RULE#{id}` / `RULE`                                   | alerts::rules |
//! | a rule's states (what fires, what clears)  | query `ALERT_STATE#{rule}`                                       | alerts::evaluate |
//! | alert history, newest first                | query GSI1 `ALERTS`, backward                                    | alerts::outbox |
//! | a message with its deliveries              | query `ALERT_MSG#{id}`                                           | alerts::outbox |
//! | deliveries due now                         | query GSI2 `ALERT_PENDING`, sk <= `{now}~`                       | alerts::outbox |
//!
//! Key records hold `key_id`, `name`, `key_hash`, `created_at` and, once revoked, `revoked_at`;
//! never the key itself.
//!
//! Headquarters records (see `crate::hq`, whose `record_pk`, `mission_records_pk` and
//! `country_records_pk` build these keys) hold the whole `hq::HqRecord`, `content_hash` and
//! `imported_from`; `{date}` is `yyyy-mm-dd`. A crisis instruction to a whole country has no
//! GSI1 keys. The import marker of a bucket file holds its `size`.
//!
//! | question                                   | operation                                                        | owner |
//! |--------------------------------------------|------------------------------------------------------------------|-------|
//! | is this record stored already (import)     | put `HQREC#{id}` if absent, else get it and compare `content_hash` | hq |
//! | a mission's records in a period            | query GSI1 `HQM#{mission}`, sk between `{from}` and `{to}~`      | hq |
//! | a country's records (instructions)         | query GSI2 `HQC#{cc}`, sk between `{from}` and `{to}~`           | hq |
//! | a mission's publications to match          | query GSI1 `MITEMS#{mission}` (official), the period ± the window | hq::report |
//! | was this `hq/` file imported at this size  | get `DONE#hq#{key}` / `DONE`                                     | hq::trigger |

use chrono::{DateTime, SecondsFormat, Utc};

pub const META: &str = "META";
pub const CURRENT: &str = "CURRENT";
pub const ALL_MISSIONS: &str = "MISSIONS";
pub const ALL_SOURCES: &str = "SOURCES";
/// Partition key of the record holding the digest of the mission records last written.
pub const REGISTRY_DIGEST_PK: &str = "REGISTRY";
/// Partition and sort key of a record nobody writes: a read of it checks the table answers.
pub const HEALTH_PROBE: &str = "HEALTH";

pub fn mission_pk(id: &str) -> String {
    format!("MISSION#{id}")
}

pub fn country_pk(cc: &str) -> String {
    format!("COUNTRY#{cc}")
}

pub fn source_sk(source: &str) -> String {
    format!("SOURCE#{source}")
}

pub fn item_pk(item_id: &str) -> String {
    format!("ITEM#{item_id}")
}

pub fn version_sk(version_at: DateTime<Utc>, content_hash: &str) -> String {
    format!("V#{}#{content_hash}", sortable_time(version_at))
}

pub const VERSION_PREFIX: &str = "V#";

pub fn mission_items_pk(mission: &str) -> String {
    format!("MITEMS#{mission}")
}

pub fn country_items_pk(cc: &str) -> String {
    format!("CITEMS#{cc}")
}

pub fn item_time_sk(published: DateTime<Utc>, item_id: &str) -> String {
    format!("{}#{item_id}", sortable_time(published))
}

pub const API_KEY_SK: &str = "KEY";
pub const ALL_API_KEYS: &str = "APIKEYS";

/// An API key's record, found by the SHA-256 (hex) of the key a request presents.
pub fn api_key_pk(key_hash_hex: &str) -> String {
    format!("APIKEY#{key_hash_hex}")
}

pub const SECRET_SK: &str = "SECRET";

/// A secret the API generates for itself when none is configured (`cursor-key`).
pub fn secret_pk(name: &str) -> String {
    format!("SECRET#{name}")
}

/// `band` is 0..`stories::BANDS`, `value` the band's 16 bits.
pub fn story_band_pk(band: usize, value: u16) -> String {
    format!("STORY_BAND#{band}#{value:04x}")
}

/// `title_hash`: hex prefix of the SHA-256 of a `stories::title_key`.
pub fn story_title_pk(title_hash: &str) -> String {
    format!("STORY_TITLE#{title_hash}")
}

/// `digits`: a number of 3 or more digits from an item's body (`stories::anchors`).
pub fn story_number_pk(digits: &str) -> String {
    format!("STORY_NUM#{digits}")
}

/// `name`: a folded proper name from an item's body (`stories::anchors`).
pub fn story_name_pk(name: &str) -> String {
    format!("STORY_NAME#{name}")
}

/// `sentence_hash`: 16 hex digits of a sentence's hash (`stories::sentence_hashes`).
pub fn story_sentence_pk(sentence_hash: &str) -> String {
    format!("STORY_SENT#{sentence_hash}")
}

/// A story's members: one record per item, sort key `{published}#{item_id}`.
pub fn story_pk(story_id: &str) -> String {
    format!("STORY#{story_id}")
}

/// An item's judging record: its story fingerprint whole, what its candidates' lookers read
/// instead of its `CURRENT` (see `crate::reconcile::story`).
pub fn story_fingerprint_pk(item_id: &str) -> String {
    format!("STORY_FP#{item_id}")
}

/// The sort key of a judging record.
pub const STORY_FINGERPRINT: &str = "FP";

/// One search term's postings for one month of publication (`crate::search`): `stem` is a
/// folded, stemmed word (letters and digits only), `month` is `yyyy-mm`.
pub fn search_term_pk(stem: &str, month: &str) -> String {
    format!("TERM#{stem}#{month}")
}

/// Every mission's latest publication of one role (`reconcile::latest`): sort key the mission.
pub fn latest_pk(role: &str) -> String {
    format!("LATEST#{role}")
}

/// The marker saying a `LATEST#{role}` partition covers every mission (sorts after them).
pub const LATEST_COMPLETE_SK: &str = "~complete";

/// A mission's role index (`reconcile::rollup`): pointers `{published}#{item_id}` to the
/// `CURRENT` of its items of one role.
pub fn mission_role_pk(mission: &str, role: &str) -> String {
    format!("MROLE#{mission}#{role}")
}

/// A mission's daily counts (`reconcile::rollup`): one record per UTC day of publication.
pub fn activity_pk(mission: &str) -> String {
    format!("ACTIVITY#{mission}")
}

/// A day's counter: `yyyy-mm-dd`, so byte order is day order.
pub fn activity_sk(day: chrono::NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The marker saying a mission's role index and daily counts hold every item (in its
/// `ACTIVITY#` partition, sorting after every day).
pub const ACTIVITY_COMPLETE_SK: &str = "~complete";

/// `publication`: `{mission}/{source}/{guid}` of a portal post.
pub fn story_publication_pk(publication: &str) -> String {
    format!("STORY_PUB#{publication}")
}

/// A crisis: `CRISIS#{id}` / `META`.
pub fn crisis_pk(id: &str) -> String {
    format!("CRISIS#{id}")
}

/// GSI1 partition of a country's crises.
pub fn country_crises_pk(cc: &str) -> String {
    format!("CRISES#{cc}")
}

/// GSI2 partition of every crisis, by last signal.
pub const ALL_CRISES: &str = "CRISES";

pub const CRISIS_HEAD_SK: &str = "HEAD";

/// The latest crisis of a country and kind group (`crises::CrisisKind::group`).
pub fn crisis_head_pk(cc: &str, group: &str) -> String {
    format!("CRISIS_HEAD#{cc}#{group}")
}

pub const CRISIS_EVENT_SK: &str = "EVENT";

/// The crisis a hazard event belonged to: records written before the crisis heads, no longer
/// written nor read.
pub fn crisis_event_pk(event_id: &str) -> String {
    format!("CRISIS_EVENT#{event_id}")
}

/// A country's crisis signals, sort key `{signal_at}#{item_id}`.
pub fn crisis_signals_pk(cc: &str) -> String {
    format!("CSIG#{cc}")
}

pub const ALERT_RULE_SK: &str = "RULE";
/// GSI1 partition of every alert rule, by creation time.
pub const ALL_ALERT_RULES: &str = "ALERT_RULES";

pub fn alert_rule_pk(id: &str) -> String {
    format!("ALERT_RULE#{id}")
}

/// One rule's condition states, one record per subject.
pub fn alert_state_pk(rule_id: &str) -> String {
    format!("ALERT_STATE#{rule_id}")
}

pub fn alert_state_sk(subject: &str) -> String {
    format!("SUBJECT#{subject}")
}

pub const ALERT_MESSAGE_SK: &str = "MSG";
/// GSI1 partition of every alert message, by creation time (the history).
pub const ALL_ALERTS: &str = "ALERTS";
/// GSI2 partition of the deliveries still to make, by next attempt time.
pub const ALERT_PENDING: &str = "ALERT_PENDING";

pub fn alert_message_pk(id: &str) -> String {
    format!("ALERT_MSG#{id}")
}

pub const ALERT_DELIVERY_PREFIX: &str = "DELIVERY#";

pub fn alert_delivery_sk(channel: &str) -> String {
    format!("{ALERT_DELIVERY_PREFIX}{channel}")
}

pub fn done_pk(stage: &str, key: &str) -> String {
    format!("DONE#{stage}#{key}")
}

/// Fixed-width UTC time, so byte order is time order.
pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_time_sorts_as_time() {
        let a = DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = DateTime::parse_from_rfc3339("2025-01-02T03:04:05.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = DateTime::parse_from_rfc3339("2025-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (sa, sb, sc) = (sortable_time(a), sortable_time(b), sortable_time(c));
        assert!(sa < sb && sb < sc, "{sa} {sb} {sc}");
        assert_eq!(sa, "2025-01-02T03:04:05.000Z");
    }
}
